#!/usr/bin/env python3
"""Chaos run: a `seer run` of a tiny GRPO config under many faults at once, then checks of what it trained.

For a bounded time a seeded schedule SIGKILLs rollout workers and the reward service at random moments (`seer
run` restarts them), pauses the learner (SIGSTOP for 1-3 s: a stalled host), holds one checkpoint write (the
SEER_FAILPOINT_CHECKPOINT failpoint: a slow filesystem) and SIGKILLs the learner during that write, then resumes
the run with `seer run` (checkpoint.resume: auto) and goes on with the faults until the time is up; Ctrl-C
(SIGINT) ends it with a final checkpoint. Then, from groups.jsonl, the checkpoints and metrics.jsonl:
  - every trained prompt id ("epoch:position") was trained exactly once (a step redone after the resume counts
    once: its last record is the one the weights hold);
  - no group lagged its step's weights by more than rollout.max_staleness versions;
  - no sample has a reward it was not given: a scored sample's accuracy part agrees with its answer against the
    row's gold (rewards >= 0.9 exactly for right answers), unscored ones carry none;
  - the checkpoint held at the learner kill never became `latest`; the resumed run went on from the checkpoint
    before it (its first step is that checkpoint's step + 1, weight versions go on rising), and its workers
    generated with the resumed weights (no older version, no checksum mismatch);
  - the final checkpoint's weights load (`seer generate` on one test image).
It prints the faults injected and survived. Test tooling (Python is never in seer's runtime path).
Usage: chaos.py SEER [--minutes M] [--seed S] [--keep]
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STALENESS = 1
EVERY = 5  # checkpoint.every_steps
HELD_STEP = 10  # the checkpoint held by the failpoint, during which the learner is killed


def sh(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def pids(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.PIPE, text=True).stdout.split()
    return [int(p) for p in out]


def kill(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def same_number(answer, gold):
    """digits-classify golds are numeric: "7", "7.0" and "07" are the same answer."""
    try:
        return float(answer.strip()) == float(gold)
    except ValueError:
        return False


def last_per_step(path, key="step"):
    """The last JSON line of each step (a resumed run may redo steps after its checkpoint)."""
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out[row[key]] = row
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seer")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    seer = Path(a.seer).resolve()
    rng = random.Random(a.seed)
    tmp = Path(tempfile.mkdtemp(prefix="seer-chaos-"))
    run = tmp / "run"
    failures = []
    faults = {"worker kills": 0, "reward service kills": 0, "learner pauses": 0, "learner kills": 0,
              "held checkpoint writes": 0}

    def check(ok, what):
        print(("ok: " if ok else "FAIL: ") + what, flush=True)
        if not ok:
            failures.append(what)

    sh(seer, "init-model", tmp / "model", "--preset", "tiny", "--seed", "3")
    sh(seer, "data", "make", "digits-classify", "--out", tmp / "data", "--train", "48", "--test", "4")
    config = tmp / "chaos.yaml"
    config.write_text(f"""name: chaos
run_dir: {run}
seed: {a.seed}
model: {{path: {tmp / 'model'}}}
data: {{train: {tmp / 'data' / 'train.jsonl'}, shuffle: false}}
rollout: {{workers: 2, group_size: 4, max_new_tokens: 10, prompts_per_call: 2, preprocess_threads: 1,
          max_staleness: {STALENESS}, lease_timeout_seconds: 4, coordinator_patience_seconds: 120}}
reward: {{threads: 1}}
algorithm: {{name: grpo, kl_coef: 0.0}}
trainer: {{steps: 100000, prompts_per_step: 4, micro_batch_size: 16, lr: 1.0e-4}}
checkpoint: {{every_steps: {EVERY}, keep_last: 3}}
compute: {{threads: 1}}
metrics: {{prometheus: false, log_every_steps: 10}}
""")
    golds = [json.loads(l)["solution"] if "solution" in json.loads(l) else json.loads(l)["answer"]
             for l in (tmp / "data" / "train.jsonl").read_text().splitlines() if l.strip()]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    deadline = time.monotonic() + a.minutes * 60
    log = open(tmp / "seer-run.log", "a")

    def start(extra_env=None):
        return subprocess.Popen([str(seer), "run", str(config), "--max-restarts", "10000", "--no-preflight"],
                                stdout=log, stderr=subprocess.STDOUT, env=dict(env, **(extra_env or {})),
                                start_new_session=True)

    def steps_done():
        return len(last_per_step(run / "metrics.jsonl"))

    def chaos_until(proc, until, stop_when=None):
        """Random faults until `until` (monotonic), the run ending, or stop_when() being true."""
        while time.monotonic() < until and proc.poll() is None:
            if stop_when and stop_when():
                return
            time.sleep(rng.uniform(1.5, 4.0))
            if steps_done() < 2:
                continue  # let it start first
            roll = rng.random()
            if roll < 0.5:
                victims = pids(f"seer rollout --config {run}/config.yaml")
                if victims and kill(rng.choice(victims), signal.SIGKILL):
                    faults["worker kills"] += 1
            elif roll < 0.75:
                victims = pids(f"seer reward --config {run}/config.yaml")
                if victims and kill(victims[0], signal.SIGKILL):
                    faults["reward service kills"] += 1
            else:
                learner = pids(f"seer train {run}/config.yaml")
                if learner and kill(learner[0], signal.SIGSTOP):
                    time.sleep(rng.uniform(1.0, 3.0))
                    kill(learner[0], signal.SIGCONT)
                    faults["learner pauses"] += 1

    def stop_all(proc, sig, wait):
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for p in pids(str(run / "config.yaml")):
            kill(p, signal.SIGKILL)

    # ---------- phase 1: faults, the held checkpoint write, the learner killed while it is held
    held = run / "checkpoints" / f".tmp-step-{HELD_STEP:08d}"
    proc = start({"SEER_FAILPOINT_CHECKPOINT": f"{HELD_STEP}:8"})
    kill_by = time.monotonic() + a.minutes * 60 * 0.5
    chaos_until(proc, kill_by, stop_when=lambda: held.exists())
    latest_at_kill = None
    for _ in range(100):  # the failpoint holds the write 8 s; its folder appears first
        if held.exists() or time.monotonic() > kill_by + 20:
            break
        time.sleep(0.1)
    if held.exists():
        faults["held checkpoint writes"] += 1
        time.sleep(0.5)
    learner = pids(f"seer train {run}/config.yaml")
    check(bool(learner), "the learner is running at the kill")
    for p in learner:
        kill(p, signal.SIGCONT)
        kill(p, signal.SIGKILL)
    faults["learner kills"] += 1
    latest_file = run / "checkpoints" / "latest"
    latest_at_kill = latest_file.read_text().strip() if latest_file.exists() else ""
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        check(False, "seer run did not exit after its learner was killed")
    stop_all(proc, signal.SIGKILL, 5)
    check(latest_at_kill != f"step-{HELD_STEP:08d}", f"the held checkpoint never became latest (latest: {latest_at_kill or 'none'})")
    steps_before = last_per_step(run / "metrics.jsonl")
    resume_step = int(latest_at_kill.split("-")[1]) if latest_at_kill else 0

    # ---------- phase 2: resumed, faults until the time is up, then Ctrl-C (final checkpoint)
    proc = start()
    chaos_until(proc, deadline)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            check(False, "seer run did not stop within 120 s of Ctrl-C")
    stop_all(proc, signal.SIGKILL, 5)
    check(proc.returncode == 0, f"the resumed seer run ended cleanly after Ctrl-C (status {proc.returncode})")

    # ---------- checks
    metrics = last_per_step(run / "metrics.jsonl")
    groups = last_per_step(run / "groups.jsonl")
    steps = sorted(metrics)
    check(len(steps) > resume_step + 2, f"the run trained past its resume point ({len(steps)} steps, resumed at {resume_step})")
    check(steps == list(range(1, len(steps) + 1)), "metrics.jsonl holds every step once, 1..N")
    resumed_lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    # the resumed run's first record follows the checkpoint it resumed from
    firsts = [r["step"] for i, r in enumerate(resumed_lines) if i > 0 and r["step"] <= resumed_lines[i - 1]["step"]]
    check(firsts == [resume_step + 1] if len(steps_before) > resume_step else not firsts,
          f"after the kill the learner went on from step {resume_step} (redone from step {firsts or 'none'})")
    versions = [metrics[s]["weight_version"] for s in steps]
    check(all(b > a_ for a_, b in zip(versions, versions[1:])), "weight versions rise step after step, across the resume")
    check(all(abs(metrics[s]["loss"]) < 1e6 for s in steps), "every step's loss is finite")
    # after the resume, workers generate with the resumed weights: no group from an older version, and no group
    # whose weights differ from its version's checksum (the coordinator counts and refuses those)
    resumed_version = metrics[resume_step]["weight_version"] if resume_step in metrics else 0
    older = sum(1 for st in steps if st > resume_step for g in groups.get(st, {"groups": []})["groups"]
                if g["weight_version"] < resumed_version)
    check(older == 0, f"after the resume no group came from weights older than the checkpoint's ({older} did)")
    mismatches = max(metrics[st].get("groups/checksum_mismatch", 0) for st in steps)
    check(mismatches == 0, f"no group generated by weights other than its version's ({mismatches:.0f})")
    seen = {}
    stale = wrong = unscored = scored = 0
    for s in sorted(groups):
        line = groups[s]
        for g in line["groups"]:
            seen[g["id"]] = seen.get(g["id"], 0) + 1
            if line["weight_version"] - g["weight_version"] > STALENESS:
                stale += 1
            position = int(g["id"].split(":")[1])
            gold = str(golds[position % len(golds)])
            for reward, answer in zip(g["rewards"], g["answers"]):
                if reward is None:
                    unscored += 1
                    continue
                scored += 1
                if (reward >= 0.9) != same_number(answer, gold):
                    wrong += 1
    twice = [k for k, n in seen.items() if n > 1]
    check(not twice, f"every trained prompt id trained exactly once ({len(seen)} ids; twice: {twice[:5]})")
    check(set(groups) == set(steps), "groups.jsonl has the groups of every step")
    check(stale == 0, f"no group older than max_staleness {STALENESS} ({stale} were)")
    check(wrong == 0 and scored > 0, f"no reward a sample was not given ({scored} scored, {unscored} unscored, {wrong} inconsistent)")
    final = (run / "checkpoints" / "latest").read_text().strip()
    image = next((tmp / "data").rglob("*.png"))
    gen = subprocess.run([str(seer), "generate", "--config", str(config), "--model", str(run / "checkpoints" / final / "model"),
                          "--image", str(image), "--max-new-tokens", "4", "Which digit is shown?"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(gen.returncode == 0, f"the final checkpoint {final} loads and generates")
    run_log = (tmp / "seer-run.log").read_text()
    restarts = run_log.count("restarting it")
    print("faults injected: " + ", ".join(f"{k} {v}" for k, v in faults.items()))
    print(f"survived: {len(steps)} steps, {len(seen)} prompts trained once each, {restarts} process restarts by seer run, "
          f"{unscored} samples unscored (never rewarded), final checkpoint {final}")
    if failures or a.keep:
        print(f"kept {tmp}")
    else:
        subprocess.run(["rm", "-rf", str(tmp)])
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
