#!/usr/bin/env python3
"""Generate synthetic HighLevel Voice AI call logs as JSONL.

Shaped like the REST CallLog object (or the VoiceAiCallEnd webhook body):
transcripts of 12-16 bot:/human: turns (about 1.5 KB), optional fields
missing at realistic rates, CUSTOM_ACTION secrets now and then.
Deterministic for a given --seed.

usage: gencalls.py N [--seed S] [--locations L] [--start YYYY-MM]
                     [--months M] [--shape rest|webhook|mixed] [--id-prefix P]
"""
import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone

BOT = [
    "Thanks for calling {biz}, this is {agent}. How can I help you today?",
    "I can help with that. Could you give me your full name, please?",
    "Thank you. And what is the best number to reach you at?",
    "Let me check the calendar for the next available appointment.",
    "I have Thursday at 10 AM or Friday at 2 PM. Which works better?",
    "Our cancellation fee is 25 dollars if you cancel within 24 hours.",
    "I understand. Let me transfer you to a manager who can help with the refund.",
    "The co-pay for that visit is usually 3.5% of the total estimate.",
    "Is there anything else I can help you with today?",
    "I've booked that for you and you'll get a text confirmation shortly.",
    "Could you spell the email address for me?",
    "Our office hours are Monday through Friday, 8 to 5.",
]
HUMAN = [
    "Hi, I'm calling about {topic}.",
    "Sure, it's {name}.",
    "You can reach me at {phone}.",
    "Thursday works for me.",
    "I'd like to ask about a refund for my last invoice.",
    "What's the cancellation policy?",
    "Can I speak to a manager, please?",
    "My email is {email}.",
    "The card ends in {last4}.",
    "No, that's all. Thank you so much.",
    "I don't think that's right, I was charged twice.",
    "How much is the co-pay going to be?",
]
TOPICS = ["a roof leak", "a billing question", "my appointment",
          "a refund", "an estimate", "insurance coverage"]
NAMES = ["Maria Lopez", "John O'Neil", "Priya Shah", "Chen Wei",
         "Ana Souza", "Tom Becker", "Fatima Khan", "Luca Rossi"]
ACTIONS = ["CALL_TRANSFER", "DATA_EXTRACTION", "WORKFLOW_TRIGGER", "SMS",
           "APPOINTMENT_BOOKING", "CUSTOM_ACTION", "KNOWLEDGE_BASE"]


def hexid(rng, n=24):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def alnum(rng, n=20):
    return "".join(rng.choice(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(n))


def transcript(rng, biz, agent):
    turns = rng.randint(12, 16)
    sep = " " if rng.random() < 0.7 else ""
    name = rng.choice(NAMES)
    ctx = dict(biz=biz, agent=agent, topic=rng.choice(TOPICS), name=name,
               phone="+1 (555) %03d-%04d" % (rng.randint(0, 999),
                                             rng.randint(0, 9999)),
               email=name.split()[0].lower().replace("'", "") +
               "@example.com", last4="%04d" % rng.randint(0, 9999))
    lines = []
    for i in range(turns):
        if i % 2 == 0:
            lines.append("bot:" + sep + rng.choice(BOT).format(**ctx))
        else:
            lines.append("human:" + sep + rng.choice(HUMAN).format(**ctx))
    return "\n".join(lines)


def action(rng, t, when, shape):
    a = {"actionType": t, "actionName": t.title().replace("_", " "),
         "executedAt": when, "triggerReceivedAt": when}
    a["_id" if shape == "webhook" else "actionId"] = hexid(rng)
    if t == "CUSTOM_ACTION":
        a["actionParameters"] = {"triggerPrompt": "when asked",
                                 "apiDetails": {
                                     "url": "https://api.example.com/x",
                                     "method": "POST",
                                     "authenticationRequired": True,
                                     "authenticationValue": "sk_live_" + alnum(rng, 24),
                                     "headers": [{"key": "X-Api-Key",
                                                  "value": alnum(rng, 16)}]}}
    elif t == "CALL_TRANSFER":
        a["actionParameters"] = {"transferToType": "number",
                                 "transferToValue": "+15125550100"}
    else:
        a["actionParameters"] = {}
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--locations", type=int, default=3)
    ap.add_argument("--start", default="2026-01")
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--shape", default="rest",
                    choices=["rest", "webhook", "mixed"])
    ap.add_argument("--id-prefix", default="")
    ap.add_argument("--with-location", action="store_true",
                    help="add locationId to REST-shaped records too")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    locs = [alnum(rng) for _ in range(a.locations)]
    agents = {loc: [(hexid(rng), rng.choice(["Front Desk", "After Hours",
                                              "Billing", "Scheduler"]))
                    for _ in range(3)] for loc in locs}
    contacts = [alnum(rng) for _ in range(max(10, a.n // 20))]
    start = datetime.strptime(a.start + "-01", "%Y-%m-%d").replace(
        tzinfo=timezone.utc)
    span = timedelta(days=30.4 * a.months).total_seconds()
    out = sys.stdout
    for i in range(a.n):
        loc = rng.choice(locs)
        agent_id, agent = rng.choice(agents[loc])
        created = start + timedelta(seconds=span * i / max(1, a.n) +
                                    rng.random())
        ts = created.strftime("%Y-%m-%dT%H:%M:%S.") + \
            "%03dZ" % (created.microsecond // 1000)
        shape = a.shape if a.shape != "mixed" else rng.choice(
            ["rest", "webhook"])
        rec = {"id": a.id_prefix + hexid(rng), "agentId": agent_id,
               "createdAt": ts, "duration": rng.randint(5, 900),
               "trialCall": rng.random() < 0.05,
               "transcript": transcript(rng, "Acme " + loc[:4], agent)}
        if shape == "rest":
            rec["isAgentDeleted"] = rng.random() < 0.03
            if a.with_location:
                rec["locationId"] = loc
        else:
            rec["type"] = "VoiceAiCallEnd"
            rec["webhookId"] = "%08x-0000-4000-8000-%012x" % (i, rng.getrandbits(48))
            rec["locationId"] = loc
        if rng.random() < 0.9:
            rec["contactId"] = rng.choice(contacts)
        if rng.random() < 0.95:
            rec["fromNumber"] = "+1512555%04d" % rng.randint(0, 9999)
        if rng.random() < 0.92:
            rec["summary"] = "Caller asked about %s; %s." % (
                rng.choice(TOPICS), rng.choice(
                    ["appointment booked", "transferred to a manager",
                     "refund requested", "question answered"]))
        acts = []
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            acts.append(action(rng, rng.choice(ACTIONS), ts, shape))
        rec["executedCallActions"] = acts
        if rng.random() < 0.5:
            rec["extractedData"] = {"name": rng.choice(NAMES)}
        if rng.random() < 0.3:
            rec["translation"] = None
        if rng.random() < 0.6:
            rec["messageId"] = alnum(rng)
        if rng.random() < 0.4:
            rec["agentTransferOccurred"] = rng.random() < 0.2
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
