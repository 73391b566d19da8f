#!/usr/bin/env bash
# `seer generate` against `seer eval` on the same rows: the same completions (greedy) and the same accuracy and
# format scores, through generate's own prompt and scoring loop; the streamed text equals the printed one; a
# running `seer reward` gives the same score lines as the in-process scorer; a bad image is a per-prompt error.
# The model is the tiny preset after 40 SFT steps on 100 digits rows (it has learned part of the template).
# Usage: generate_test.sh SEER_BINARY CONFIGS_DIR
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
configs=$2
tmp=$(mktemp -d)
reward_pid=""
trap '[ -n "$reward_pid" ] && kill "$reward_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
tiny_fixture "$seer" "$tmp" digits-classify 100 8
"$seer" run "$configs/quickstart-sft.yaml" --no-preflight --set run_dir=sft --set model.path=model \
  --set data.train=data/sft_train.jsonl --set data.eval=data/test.jsonl --set trainer.steps=40 >sft.log 2>&1 \
  || { cat sft.log; exit 1; }
model=$(ls -d sft/checkpoints/step-*/model | tail -n1)
cfg="$configs/quickstart.yaml"

"$seer" eval --config "$cfg" --model "$model" --data data/test.jsonl --json eval.json >eval.out 2>&1 || { cat eval.out; exit 1; }
"$seer" generate --config "$cfg" --model "$model" --data data/test.jsonl >gen.out 2>gen.err
status=$?
# Each row of eval.json as generate prints it: "== id ==", the completion, "[stop|length, N tokens] reward R ...".
python3 - eval.json gen.out <<'EOF' >compare.out
import json, re, sys
rows = json.load(open(sys.argv[1]))["samples"]
text = open(sys.argv[2]).read()
blocks = re.split(r"^== (.+) ==\n", text, flags=re.M)[1:]
got = dict(zip(blocks[0::2], blocks[1::2]))
bad = 0
for r in rows:
    b = got.get(r["id"])
    if b is None:
        print("missing", r["id"]); bad += 1; continue
    completion, _, score = b.rstrip("\n").rpartition("\n")
    m = re.search(r"accuracy ([0-9.]+)  format ([0-9.]+)  status (\S+)  answer \"(.*)\"  gold \"(.*)\"", score)
    if completion != r["completion"] or not m or abs(float(m[1]) - r["accuracy"]) > 1e-3 \
       or abs(float(m[2]) - r["format"]) > 1e-3 or m[3] != r["status"] or m[4] != r["extracted"] or m[5] != r["gold"]:
        print("differs", r["id"], repr(completion), repr(r["completion"]), score, r); bad += 1
print(len(rows), "rows,", bad, "differ")
EOF
if [ $status -eq 0 ] && grep -q "^8 rows, 0 differ" compare.out; then ok "generate --data: completions and scores of 8 rows equal seer eval's"
else bad "generate --data vs eval (exit $status)"; cat compare.out gen.err; fi

# One question with its image and gold: streamed (default) and --no-stream print the same.
row=$(head -n1 data/test.jsonl)
image=data/$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["image"])' "$row")
gold=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["solution"])' "$row")
"$seer" generate --config "$cfg" --model "$model" --image "$image" --gold "$gold" "Which digit is shown?" >one.out 2>one.err
s1=$?
"$seer" generate --config "$cfg" --model "$model" --image "$image" --gold "$gold" --no-stream "Which digit is shown?" >one_ns.out 2>one_ns.err
first=$(python3 -c 'import json; print(json.load(open("eval.json"))["samples"][0]["completion"])')
if [ $s1 -eq 0 ] && cmp -s one.out one_ns.out && [ "$(head -n -1 one.out)" = "$first" ] && grep -q "gold \"$gold\"" one.out
then ok "one question: the streamed completion equals --no-stream's and eval's first row, with its score"
else bad "one question (exit $s1)"; cat one.out one_ns.out one.err; echo "eval: $first"; fi

# The score through a running reward service equals the in-process scorer's.
"$seer" reward --port-file port >reward.log 2>&1 &
reward_pid=$!
wait_file port 20 || { bad "seer reward did not start"; cat reward.log; }
"$seer" generate --config "$cfg" --model "$model" --data data/test.jsonl --reward-address "$(cat port)" >gen_svc.out 2>gen_svc.err
if [ $? -eq 0 ] && cmp -s gen.out gen_svc.out; then ok "--reward-address: the reward service scores every row as the in-process scorer"
else bad "--reward-address"; diff gen.out gen_svc.out | head; cat gen_svc.err; fi

# A file that is no image: a per-prompt error naming it, exit 1.
echo "not an image" >bad.png
"$seer" generate --config "$cfg" --model "$model" --image bad.png "Which digit is shown?" >bad.out 2>&1
status=$?
if [ $status -eq 1 ] && grep -q "bad.png: cannot decode" bad.out; then ok "a bad image: exit 1 naming the file"
else bad "bad image (exit $status)"; cat bad.out; fi
finish
