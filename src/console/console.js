// callvault console. Everything from call data goes into the page through
// textContent or text nodes; innerHTML is never used.
'use strict';
(function () {
  var me = null;          // {user, role, csrf}
  var last = null;        // the last search's parameters
  var ROLES = ['viewer', 'exporter', 'hold-admin', 'admin'];
  function $(id) { return document.getElementById(id); }
  function can(role) { return me && ROLES.indexOf(me.role) >= ROLES.indexOf(role); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  // text with hit ranges [start, end) in code points, hits in <mark>
  function marked(text, ranges) {
    var f = document.createDocumentFragment();
    var cps = Array.from(text || ''), at = 0;
    (ranges || []).forEach(function (r) {
      if (r[0] > at) f.appendChild(document.createTextNode(cps.slice(at, r[0]).join('')));
      f.appendChild(el('mark', cps.slice(r[0], r[1]).join('')));
      at = r[1];
    });
    if (at < cps.length) f.appendChild(document.createTextNode(cps.slice(at).join('')));
    return f;
  }
  function row(tbody, cells) {
    var tr = el('tr');
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c);
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }

  function api(path, opts) {
    opts = opts || {};
    opts.credentials = 'same-origin';
    opts.headers = opts.headers || {};
    if (opts.method === 'POST' && me && me.csrf) opts.headers['X-CSRF-Token'] = me.csrf;
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 401 && path !== '/login') { me = null; show('login'); }
        return { status: r.status, body: j };
      });
    });
  }

  function show(id) {
    ['login', 'search', 'call', 'audit', 'holds', 'archives'].forEach(function (s) { $(s).hidden = s !== id; });
    $('nav').hidden = !me;
    if (me) {
      $('who').textContent = me.user + ' (' + me.role + ')';
      $('nav-audit').hidden = !can('admin');
      $('nav-holds').hidden = !can('hold-admin');
      $('export').hidden = !can('exporter');
    }
    var h = $(id).querySelector('h2');
    if (h) { h.tabIndex = -1; h.focus(); }
  }

  // ---- login -------------------------------------------------------
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = new URLSearchParams();
    body.set('user', $('login-user').value);
    body.set('password', $('login-password').value);
    api('/login', { method: 'POST', body: body }).then(function (r) {
      if (r.status !== 200) { $('login-error').textContent = r.body.error || 'log in failed'; return; }
      $('login-error').textContent = '';
      $('login-password').value = '';
      me = r.body;
      route();
    });
  });
  $('logout').addEventListener('click', function () {
    api('/logout', { method: 'POST' }).then(function () { me = null; show('login'); });
  });

  // ---- search ------------------------------------------------------
  function params(offset) {
    var p = new URLSearchParams();
    Array.prototype.forEach.call($('search-form').elements, function (e) {
      if (e.name && e.value !== '') p.set(e.name, e.value);
    });
    if (offset) p.set('offset', String(offset));
    return p;
  }
  function search(p) {
    last = p;
    $('q-error').textContent = '';
    $('export').href = '/api/export?' + p.toString();
    api('/api/search?' + p.toString()).then(function (r) {
      var tb = $('results').querySelector('tbody');
      clear(tb);
      if (r.status === 400) {
        $('q-error').textContent = r.body.error === 'syntax error'
          ? 'Syntax error at position ' + r.body.position + ': ' + r.body.message
          : (r.body.error || 'bad request');
        $('search-status').textContent = 'The search was not run.';
        $('q').focus();
        return;
      }
      if (r.status !== 200) { $('search-status').textContent = r.body.error || 'search failed'; return; }
      var q = p.get('q') || '';
      r.body.hits.forEach(function (h) {
        var a = el('a', h.id);
        a.href = '#/call/' + encodeURIComponent(h.id) + (q ? '?q=' + encodeURIComponent(q) : '');
        row(tb, [a, h.createdAt, h.agentName || h.agentId, h.contactId, h.fromNumber,
                 h.duration === null ? '' : Math.round(h.duration), marked(h.snippet, h.snippetRanges)]);
      });
      var off = r.body.offset;
      $('search-status').textContent = r.body.hits.length
        ? 'Calls ' + (off + 1) + '–' + (off + r.body.hits.length) + (r.body.more ? ' (more on the next page)' : '') + (r.body.rankedAmong ? '; ranked among the ' + r.body.rankedAmong + ' most recent matches' : '')
        : 'No calls match.';
      if (r.body.purged) {
        // purged months: say how many calls are only in archives, and which
        $('search-status').textContent += ' Note: ' + r.body.purged.calls +
          ' call(s) of the months searched were purged from the live store; they are in ' +
          r.body.purged.archives.map(function (a) { return a.path + ' (' + a.locationId + ' ' + a.month + ', ' + a.calls + ')'; }).join(', ') +
          ' (callvault search --archives DIR searches them).';
      }
      $('search-hold-form').hidden = !can('hold-admin') || !r.body.hits.length;
      $('prev').disabled = off === 0;
      $('next').disabled = !r.body.more;
      $('prev').dataset.offset = Math.max(0, off - r.body.limit);
      $('next').dataset.offset = off + r.body.limit;
    });
  }
  $('search-hold-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var p = new URLSearchParams(last);
    ['offset', 'limit', 'sort'].forEach(function (k) { p.delete(k); });
    p.set('search', '1');
    api('/api/holds?' + p.toString(), { method: 'POST', body: form({ matter: $('sh-matter').value, reason: $('sh-reason').value }) })
      .then(function (r) {
        $('sh-status').textContent = r.status === 201
          ? 'Hold ' + r.body.id + ' placed on ' + r.body.calls + ' call(s).'
          : (r.body.error || 'the hold was not placed');
        if (r.status === 201) { $('sh-matter').value = ''; $('sh-reason').value = ''; }
      });
  });
  $('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    location.hash = '#/search?' + params(0).toString();
  });
  ['prev', 'next'].forEach(function (id) {
    $(id).addEventListener('click', function () {
      location.hash = '#/search?' + params(Number($(id).dataset.offset)).toString();
    });
  });

  // ---- one call ----------------------------------------------------
  function dl(target, pairs) {
    clear(target);
    pairs.forEach(function (kv) {
      target.appendChild(el('dt', kv[0]));
      target.appendChild(el('dd', kv[1] === null || kv[1] === undefined ? '—' : typeof kv[1] === 'object' ? JSON.stringify(kv[1]) : kv[1]));
    });
  }
  function openCall(id, q) {
    api('/api/calls/' + encodeURIComponent(id) + (q ? '?q=' + encodeURIComponent(q) : '')).then(function (r) {
      show('call');
      if (r.status !== 200) { $('call-h').textContent = r.body.error || 'cannot open the call'; return; }
      var c = r.body;
      $('call-h').textContent = 'Call ' + c.id;
      dl($('call-meta'), [['Time (UTC)', c.createdAt], ['Location', c.locationId], ['Agent', c.agentName ? c.agentName + ' (' + c.agentId + ')' : c.agentId],
        ['Contact', c.contactId], ['Caller number', c.fromNumber], ['Duration (s)', c.duration], ['Trial call', c.trialCall], ['Message', c.messageId]]);
      clear($('call-summary'));
      $('call-summary').appendChild(marked(c.summary, c.summaryRanges));
      var ol = $('call-turns');
      clear(ol);
      c.turns.forEach(function (t) {
        var li = el('li', null, t.speaker);
        li.appendChild(el('span', t.speaker === 'bot' ? 'Voice agent' : t.speaker === 'human' ? 'Caller' : 'Other', 'speaker'));
        li.appendChild(marked(t.text, t.ranges));
        ol.appendChild(li);
      });
      var ul = $('call-actions');
      clear(ul);
      c.actions.forEach(function (a) { ul.appendChild(el('li', (a.type || '?') + ' — ' + (a.name || '') + (a.executedAt ? ' at ' + a.executedAt : ''))); });
      if (!c.actions.length) ul.appendChild(el('li', 'none'));
      var ex = c.extractedData || {};
      dl($('call-extracted'), Object.keys(ex).map(function (k) { return [k, ex[k]]; }));
      var vb = $('call-versions').querySelector('tbody');
      clear(vb);
      c.versions.forEach(function (v) { row(vb, [v.seq, v.source, v.receivedAt, el('span', v.receivedSha256, 'hash'), el('span', v.canonicalSha256, 'hash')]); });
      var eb = $('call-events').querySelector('tbody');
      clear(eb);
      c.events.forEach(function (e) { row(eb, [e.type, e.receivedAt, e.outcome, e.signature, el('span', e.sha256, 'hash')]); });
      $('call-holds').textContent = c.held ? 'This call is under a legal hold.' : 'No active hold covers this call.';
      $('hold-form').hidden = !can('hold-admin');
      $('hold-form').dataset.call = c.id;
      $('back').href = last ? '#/search?' + last.toString() : '#/search';
    });
  }

  // ---- holds -------------------------------------------------------
  function form(fields) {
    var b = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { b.set(k, fields[k]); });
    return b;
  }
  $('hold-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var id = $('hold-form').dataset.call;
    api('/api/holds', { method: 'POST', body: form({ call: id, matter: $('hold-matter').value, reason: $('hold-reason').value }) })
      .then(function (r) {
        $('hold-error').textContent = r.status === 201 ? '' : (r.body.error || 'the hold was not placed');
        if (r.status === 201) { $('hold-matter').value = ''; $('hold-reason').value = ''; openCall(id, null); }
      });
  });
  function openHolds() {
    api('/api/holds').then(function (r) {
      show('holds');
      var tb = $('holds-table').querySelector('tbody');
      clear(tb);
      if (r.status !== 200) { $('holds-status').textContent = r.body.error || 'cannot read holds'; return; }
      $('holds-status').textContent = r.body.holds.length + ' active hold(s).';
      r.body.holds.forEach(function (h) {
        var scope = [];
        if (h.calls.length) scope.push('calls ' + h.calls.join(' '));
        ['contactId', 'number', 'agentId', 'locationId', 'from', 'to'].forEach(function (k) { if (h[k]) scope.push(k + ' ' + h[k]); });
        var cell = el('span');
        var lab = el('label', 'Reason to release hold ' + h.id, 'sr');
        var inp = el('input');
        inp.id = 'release-' + h.id;
        lab.htmlFor = inp.id;
        var btn = el('button', 'Release');
        btn.type = 'button';
        btn.addEventListener('click', function () {
          api('/api/holds/' + h.id + '/release', { method: 'POST', body: form({ reason: inp.value }) })
            .then(function (r2) { if (r2.status === 200) openHolds(); else $('holds-status').textContent = r2.body.error || 'not released'; });
        });
        cell.appendChild(lab); cell.appendChild(inp); cell.appendChild(btn);
        row(tb, [h.id, h.matter, h.reason, scope.join('; ') || 'everything', h.matchedCalls, h.createdAt + ' by ' + h.createdBy, cell]);
      });
    });
  }

  // ---- archives ----------------------------------------------------
  function openArchives() {
    api('/api/archives').then(function (r) {
      show('archives');
      var tb = $('archives-table').querySelector('tbody');
      clear(tb);
      if (r.status !== 200) { $('archives-status').textContent = r.body.error || 'cannot read archives'; return; }
      var unverified = r.body.filter(function (a) { return !a.verifiedAt; }).length;
      $('archives-status').textContent = r.body.length
        ? r.body.length + ' archive(s), ' + unverified + ' never verified.'
        : 'No archive has been written yet.';
      r.body.forEach(function (a) {
        row(tb, [a.locationId || '(none)', a.month, a.seq === 0 ? 'original' : 'supplement ' + a.seq, a.calls,
                 a.writtenAt, a.verifiedAt || 'never', a.purged, el('span', a.sha256, 'hash')]);
      });
    });
  }

  // ---- audit -------------------------------------------------------
  function openAudit() {
    api('/api/audit?limit=200').then(function (r) {
      show('audit');
      var tb = $('audit-table').querySelector('tbody');
      clear(tb);
      if (r.status !== 200) { $('audit-chain').textContent = r.body.error || 'cannot read the audit log'; return; }
      var ch = r.body.chain;
      $('audit-chain').textContent = ch.ok
        ? 'Chain verified: ' + ch.checked + ' entries, unbroken.'
        : 'CHAIN BROKEN at entry ' + ch.badId + ': ' + (ch.error || '');
      r.body.entries.slice().reverse().forEach(function (e) {
        row(tb, [e.id, e.ts, e.actor, e.command, e.resultCount < 0 ? '' : e.resultCount, JSON.stringify(e.detail)]);
      });
    });
  }

  // ---- routing -----------------------------------------------------
  function fill(p) {
    Array.prototype.forEach.call($('search-form').elements, function (e) {
      if (e.name) e.value = p.get(e.name) || (e.tagName === 'SELECT' ? e.options[0].value : '');
    });
  }
  function route() {
    if (!me) { show('login'); return; }
    var h = location.hash || '#/search', qi = h.indexOf('?');
    var path = qi < 0 ? h : h.slice(0, qi), p = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1));
    if (path.indexOf('#/call/') === 0) { openCall(decodeURIComponent(path.slice(7)), p.get('q')); return; }
    if (path === '#/audit' && can('admin')) { openAudit(); return; }
    if (path === '#/holds' && can('hold-admin')) { openHolds(); return; }
    if (path === '#/archives') { openArchives(); return; }
    show('search');
    fill(p);
    if (qi >= 0) search(p);
  }
  window.addEventListener('hashchange', route);
  api('/api/me').then(function (r) {
    if (r.status === 200) me = r.body;
    route();
  });
})();
