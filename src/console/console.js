// callvault console. Everything from call data goes into the page through
// textContent or text nodes; innerHTML is never used.
'use strict';
(function () {
  var me = null;          // {user, role, permissions, csrf}
  var last = null;        // the last search's parameters
  function $(id) { return document.getElementById(id); }
  // the server checks every call; this only hides what the user cannot use
  function can(perm) { return !!me && (me.permissions || []).indexOf(perm) >= 0; }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // ---- time zones --------------------------------------------------
  // The zone times are read and shown in: this session's choice (the
  // search form's tz, kept in sessionStorage), else the store's zone
  // (callvault config set timezone, from /api/me), else UTC. The server
  // reads --from/--to in the same zone (the tz argument), so the console,
  // the CLI and a hold from a search take the same calls.
  function zone() {
    var z = null;
    try { z = sessionStorage.getItem('callvault-tz'); } catch (e) { z = null; }
    return z || (me && me.timeZone) || 'UTC';
  }
  function relabel() {
    document.querySelectorAll('.tz-th').forEach(function (th) {
      th.textContent = (th.dataset.label || 'Time') + ' (' + zone() + ')';
    });
  }
  function setZone(z) {
    try { if (z) sessionStorage.setItem('callvault-tz', z); } catch (e) { /* private mode */ }
    relabel();
  }
  // An instant from the API (ISO 8601, UTC) on the zone's wall clock,
  // with the zone's abbreviation or offset: "2026-03-08 01:30:00 CST".
  function fmtTime(iso) {
    if (!iso) return iso;
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    try {
      var p = {};
      new Intl.DateTimeFormat('en-US', { timeZone: zone(), hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' })
        .formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
      return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute + ':' + p.second + ' ' + p.timeZoneName;
    } catch (e) { return iso; }
  }
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
    relabel();
    if (me) {
      $('who').textContent = me.user + ' (' + me.role + ')';
      $('nav-audit').hidden = !can('audit-read');
      $('nav-holds').hidden = !can('hold-release');
      $('export').hidden = !can('export');
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
      // /api/me also names the store's zone
      api('/api/me').then(function (r2) { if (r2.status === 200) me = r2.body; route(); });
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
    // the zone is always sent: the window means the same calls whoever
    // changes the store's zone meanwhile
    if (!p.get('tz')) p.set('tz', zone());
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
      setZone(r.body.timeZone);
      var q = p.get('q') || '';
      r.body.hits.forEach(function (h) {
        var a = el('a', h.id);
        a.href = '#/call/' + encodeURIComponent(h.id) + (q ? '?q=' + encodeURIComponent(q) : '');
        row(tb, [a, fmtTime(h.createdAt), h.agentName || h.agentId, h.contactId, h.fromNumber,
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
      $('search-hold-form').hidden = !can('hold-place') || !r.body.hits.length;
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
  // The words the search marked in the transcript, lower-cased.
  function markedWords(c) {
    var w = [];
    c.turns.forEach(function (t) {
      var cps = Array.from(t.text || '');
      (t.ranges || []).forEach(function (r) { w.push(cps.slice(r[0], r[1]).join('').toLowerCase()); });
    });
    return w;
  }
  // The recording in the browser's own player, and the timed transcript's
  // sentences as buttons that seek it; opened from a search, it starts at
  // the first sentence that says a marked word (when timing is known).
  function media(c) {
    var box = $('call-media');
    clear(box);
    var m = c.media || {}, recs = m.recordings || [];
    if (!recs.length) { box.appendChild(el('p', 'No recording is stored for this call.')); return; }
    var audio = document.createElement('audio');
    audio.controls = true;
    audio.preload = 'metadata';
    audio.setAttribute('aria-label', 'Recording of call ' + c.id);
    audio.src = '/api/recording?call=' + encodeURIComponent(c.id);
    box.appendChild(audio);
    var r0 = recs[0];
    box.appendChild(el('p', r0.contentType + ', ' + (r0.durationMs === null ? '?' : (r0.durationMs / 1000).toFixed(1) + ' s') + ', ' + r0.size + ' bytes, SHA-256 ', 'meta'));
    box.lastChild.appendChild(el('span', r0.sha256, 'hash'));
    var ts = m.timedTranscript;
    if (!ts || !ts.length) return;
    var ol = el('ol', null, 'timed');
    var words = markedWords(c), first = null;
    ts.forEach(function (s) {
      var b = el('button', s.text), li = el('li');
      b.type = 'button';
      b.title = 'Play from ' + (s.start / 1000).toFixed(1) + ' s';
      b.addEventListener('click', function () { audio.currentTime = s.start / 1000; audio.play(); });
      li.appendChild(el('span', (s.start / 1000).toFixed(1) + ' s', 'at'));
      li.appendChild(b);
      ol.appendChild(li);
      var low = s.text.toLowerCase();
      if (!first && words.some(function (w) { return w && low.indexOf(w) >= 0; })) { first = s; li.className = 'hit'; }
    });
    box.appendChild(ol);
    if (first) {
      var seek = function () { audio.currentTime = first.start / 1000; };
      if (audio.readyState >= 1) seek(); else audio.addEventListener('loadedmetadata', seek, { once: true });
    }
  }
  function openCall(id, q) {
    api('/api/calls/' + encodeURIComponent(id) + (q ? '?q=' + encodeURIComponent(q) : '')).then(function (r) {
      show('call');
      if (r.status !== 200) { $('call-h').textContent = r.body.error || 'cannot open the call'; return; }
      var c = r.body;
      $('call-h').textContent = 'Call ' + c.id;
      dl($('call-meta'), [['Time (' + zone() + ')', fmtTime(c.createdAt)], ['Location', c.locationId], ['Agent', c.agentName ? c.agentName + ' (' + c.agentId + ')' : c.agentId],
        ['Contact', c.contactId], ['Caller number', c.fromNumber], ['Duration (s)', c.duration], ['Trial call', c.trialCall], ['Message', c.messageId]]);
      clear($('call-summary'));
      $('call-summary').appendChild(marked(c.summary, c.summaryRanges));
      media(c);
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
      c.actions.forEach(function (a) { ul.appendChild(el('li', (a.type || '?') + ' — ' + (a.name || '') + (a.executedAt ? ' at ' + fmtTime(a.executedAt) : ''))); });
      if (!c.actions.length) ul.appendChild(el('li', 'none'));
      var ex = c.extractedData || {};
      dl($('call-extracted'), Object.keys(ex).map(function (k) { return [k, ex[k]]; }));
      var vb = $('call-versions').querySelector('tbody');
      clear(vb);
      c.versions.forEach(function (v) { row(vb, [v.seq, v.source, fmtTime(v.receivedAt), el('span', v.receivedSha256, 'hash'), el('span', v.canonicalSha256, 'hash')]); });
      var eb = $('call-events').querySelector('tbody');
      clear(eb);
      c.events.forEach(function (e) { row(eb, [e.type, fmtTime(e.receivedAt), e.outcome, e.signature, el('span', e.sha256, 'hash')]); });
      $('call-holds').textContent = c.held ? 'This call is under a legal hold.' : 'No active hold covers this call.';
      $('hold-form').hidden = !can('hold-place');
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
        ['contactId', 'number', 'agentId', 'locationId'].forEach(function (k) { if (h[k]) scope.push(k + ' ' + h[k]); });
        ['from', 'to'].forEach(function (k) { if (h[k]) scope.push(k + ' ' + fmtTime(h[k])); });
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
        row(tb, [h.id, h.matter, h.reason, scope.join('; ') || 'everything', h.matchedCalls, fmtTime(h.createdAt) + ' by ' + h.createdBy, cell]);
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
                 fmtTime(a.writtenAt), a.verifiedAt ? fmtTime(a.verifiedAt) : 'never', a.purged, el('span', a.sha256, 'hash')]);
      });
    });
  }

  // ---- audit -------------------------------------------------------
  // an entry's detail as "name: value" lines, not JSON: nested names
  // dotted (criteria.contact), lists comma-separated, empty ones left out
  function detailLines(d, pre, out) {
    Object.keys(d).forEach(function (k) {
      var v = d[k], name = pre + k;
      if (v === null || (pre === '' && k === 'via')) return;
      if (Array.isArray(v)) {
        if (v.length) out.push(name + ': ' + v.map(function (e) { return e !== null && typeof e === 'object' ? detailLines(e, '', []).join('; ') : String(e); }).join(', '));
      } else if (typeof v === 'object') {
        detailLines(v, name + '.', out);
      } else {
        out.push(name + ': ' + String(v));
      }
    });
    return out;
  }
  function detailText(d) {
    if (d === null || typeof d !== 'object') return d === null || d === undefined ? '' : String(d);
    return detailLines(d, '', []).join('\n');
  }
  function openAudit() {
    var p = new URLSearchParams({ limit: '200' });
    Array.prototype.forEach.call($('audit-form').elements, function (e) {
      if (e.name && e.value) p.set(e.name, e.value);
    });
    api('/api/audit?' + p.toString()).then(function (r) {
      show('audit');
      var tb = $('audit-table').querySelector('tbody');
      clear(tb);
      $('audit-error').textContent = '';
      if (r.status === 400) { $('audit-error').textContent = r.body.error; return; }
      if (r.status !== 200) { $('audit-chain').textContent = r.body.error || 'cannot read the audit log'; return; }
      var ch = r.body.chain;
      $('audit-chain').textContent = ch.ok
        ? 'Chain verified: ' + ch.checked + ' entries, unbroken.'
        : 'CHAIN BROKEN at entry ' + ch.badId + ': ' + (ch.error || '');
      r.body.entries.slice().reverse().forEach(function (e) {
        row(tb, [e.id, fmtTime(e.ts), e.osUser || '-', e.actor, e.client || '-', e.command,
                 e.resultCount < 0 ? '' : e.resultCount, el('span', detailText(e.detail), 'detail')]);
      });
    });
  }
  $('audit-form').addEventListener('submit', function (ev) { ev.preventDefault(); openAudit(); });

  // ---- routing -----------------------------------------------------
  function fill(p) {
    Array.prototype.forEach.call($('search-form').elements, function (e) {
      if (e.name) e.value = p.get(e.name) || (e.tagName === 'SELECT' ? e.options[0].value : '');
    });
    if (!$('f-tz').value) $('f-tz').value = zone();
  }
  function route() {
    if (!me) { show('login'); return; }
    var h = location.hash || '#/search', qi = h.indexOf('?');
    var path = qi < 0 ? h : h.slice(0, qi), p = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1));
    if (path.indexOf('#/call/') === 0) { openCall(decodeURIComponent(path.slice(7)), p.get('q')); return; }
    if (path === '#/audit' && can('audit-read')) { openAudit(); return; }
    if (path === '#/holds' && can('hold-release')) { openHolds(); return; }
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
