#!/usr/bin/env bash
# TLS and bearer tokens across a network link that is not loopback (cluster.tls_*, reward/coordinator tokens).
# The test makes a throwaway CA with openssl, a certificate for the services' address signed by it, and a second,
# unrelated CA. As root with `ip netns` (CI runs as root) it makes two network namespaces joined by a veth pair,
# 10.231.7.1 <-> 10.231.7.2, and runs the reward service and the learner (coordinator) in the first and the
# rollout worker and the test's clients in the second, so every RPC crosses the veth link as it would cross a
# cluster network. Where namespaces cannot be made (no root, no CAP_NET_ADMIN) it says so and runs the same
# checks on 127.0.0.1 (SEER_TEST_NO_NETNS=1 forces that path).
#  1. a GRPO run of 3 steps with TLS on both services and tokens on both completes: the worker's groups cross
#     the link, the learner trains on them (groups.jsonl), both services log that they serve TLS;
#  2. `seer reward score --address` from the client side: the right CA and token get a score; the wrong CA is
#     refused (the certificate does not verify); no token is refused (UNAUTHENTICATED); a plain-text client is
#     refused by the TLS port;
#  3. a plain-text service on a non-loopback address without a token logs the warning.
# Usage: tls_test.sh SEER_BINARY
set -u
seer=$(realpath "$1")
tmp=$(mktemp -d)
pids=()
ns_a=seer-tls-a-$$ ns_b=seer-tls-b-$$
netns=0
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ "$netns" = 1 ]; then ip netns del "$ns_a" 2>/dev/null; ip netns del "$ns_b" 2>/dev/null; fi
  [ -n "${SEER_KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=PASSIVE SEER_REWARD_TOKEN=reward-secret SEER_CLUSTER_TOKEN=cluster-secret

# ---------- the network: two namespaces and a veth pair, or loopback
if [ -z "${SEER_TEST_NO_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "$ns_a" 2>/dev/null; then
  netns=1
  if ip netns add "$ns_b" && ip link add "veth-a$$" type veth peer name "veth-b$$" &&
     ip link set "veth-a$$" netns "$ns_a" && ip link set "veth-b$$" netns "$ns_b" &&
     ip -n "$ns_a" addr add 10.231.7.1/24 dev "veth-a$$" && ip -n "$ns_b" addr add 10.231.7.2/24 dev "veth-b$$" &&
     ip -n "$ns_a" link set "veth-a$$" up && ip -n "$ns_b" link set "veth-b$$" up &&
     ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up; then
    server_host=10.231.7.1
    in_a() { ip netns exec "$ns_a" "$@"; }
    in_b() { ip netns exec "$ns_b" "$@"; }
    echo "network: namespaces $ns_a (services, 10.231.7.1) and $ns_b (worker and clients, 10.231.7.2) over a veth pair"
  else
    echo "FAIL: ip netns add worked but the veth link could not be set up"; exit 1
  fi
else
  server_host=127.0.0.1
  in_a() { "$@"; }
  in_b() { "$@"; }
  echo "network: cannot make network namespaces here (needs root and CAP_NET_ADMIN); checks run on 127.0.0.1"
fi

# ---------- a throwaway CA, the services' certificate (for the address clients dial), an unrelated CA
pki=$tmp/pki
mkdir -p "$pki"
make_ca() {  # make_ca NAME
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$pki/$1.key" -out "$pki/$1.crt" \
    >>"$pki/openssl.log" 2>&1
}
make_ca seer-test-ca && make_ca other-ca || { echo "openssl failed"; cat "$pki/openssl.log"; exit 1; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=seer-services" -keyout "$pki/server.key" -out "$pki/server.csr" \
  >>"$pki/openssl.log" 2>&1 &&
printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost\n' "$server_host" >"$pki/san.ext" &&
openssl x509 -req -in "$pki/server.csr" -CA "$pki/seer-test-ca.crt" -CAkey "$pki/seer-test-ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/san.ext" -out "$pki/server.crt" >>"$pki/openssl.log" 2>&1 ||
  { echo "openssl failed"; cat "$pki/openssl.log"; exit 1; }

tiny_fixture "$seer" "$tmp" digits-classify 24 4
reward_port=29131 coordinator_port=29132
[ "$netns" = 1 ] || { reward_port=$(free_port); coordinator_port=$(free_port); }
cat >"$tmp/config.yaml" <<YAML
name: tls-test
seed: 3
model: {path: $tmp/model}
data: {train: $tmp/data/train.jsonl}
rollout: {group_size: 4, max_new_tokens: 8, prompts_per_call: 2, preprocess_threads: 1, max_staleness: 1}
reward: {address: "$server_host:$reward_port", threads: 1, auth_token_env: SEER_REWARD_TOKEN}
algorithm: {name: grpo, kl_coef: 0.0}
trainer: {steps: 3, prompts_per_step: 2, micro_batch_size: 8, lr: 1.0e-4}
checkpoint: {every_steps: 0, keep_last: 1}
cluster:
  bind_address: $server_host
  coordinator_port: $coordinator_port
  auth_token_env: SEER_CLUSTER_TOKEN
  tls_cert_file: $pki/server.crt
  tls_key_file: $pki/server.key
  tls_ca_file: $pki/seer-test-ca.crt
compute: {threads: 1}
metrics: {prometheus: false}
YAML

# ---------- 1. a GRPO run over TLS with tokens, across the link
in_a "$seer" reward --config "$tmp/config.yaml" >"$tmp/reward.log" 2>&1 &
pids+=("$!")
run=$tmp/run
mkdir -p "$run"
in_a "$seer" train "$tmp/config.yaml" --set run_dir="$run" --no-preflight >"$run/learner.log" 2>&1 &
learner=$!
pids+=("$learner")
wait_file "$run/coordinator.address" 60 || bad "the coordinator never wrote its address"
in_b "$seer" rollout --config "$tmp/config.yaml" --coordinator "$server_host:$coordinator_port" --worker-id w1 \
  --processes-on-host 3 >"$tmp/worker.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1800); do kill -0 "$learner" 2>/dev/null || break; sleep 0.1; done
if wait "$learner"; then
  steps=$(python3 -c "import json,sys; print(len({json.loads(l)['step'] for l in open(sys.argv[1])}))" "$run/groups.jsonl" 2>/dev/null || echo 0)
  [ "$steps" = 3 ] && ok "GRPO over TLS + tokens across $server_host: 3 steps trained on the worker's groups" ||
    bad "GRPO over TLS: groups.jsonl holds $steps steps, not 3"
else
  bad "the learner failed over TLS"; tail -20 "$run/learner.log"; tail -20 "$tmp/worker.log"
fi
grep -q "TLS" "$tmp/reward.log" && ok "the reward service says it serves TLS" || bad "reward log does not mention TLS"
grep -q "coordinator listening on .*TLS" "$run/learner.log" && ok "the coordinator says it serves TLS" ||
  bad "learner log does not say the coordinator serves TLS"

# ---------- 2. clients from the other side: right CA + token, wrong CA, no token, plain text
score() {  # score LOGNAME [--set KEY=VALUE ...]
  local name=$1; shift
  in_b "$seer" reward --config "$tmp/config.yaml" --set reward.request_timeout_seconds=5 "$@" \
    score --address "$server_host:$reward_port" --gold 7 '<think>x</think><answer>7</answer>' >"$tmp/$name.out" 2>&1
}
score right && grep -q '"total": 1' "$tmp/right.out" && ok "right CA and token: scored across the link" ||
  { bad "right CA and token: no score"; cat "$tmp/right.out"; }
if score wrong-ca --set cluster.tls_ca_file="$pki/other-ca.crt"; then
  bad "a client with the wrong CA was served"; cat "$tmp/wrong-ca.out"
else
  grep -q -i -E 'unavailable|handshake|certificate|ssl' "$tmp/wrong-ca.out" && ok "wrong CA: refused (certificate not verified)" ||
    { bad "wrong CA: refused without saying why"; cat "$tmp/wrong-ca.out"; }
fi
if score no-token --set reward.auth_token_env=; then
  bad "a client without the token was served"; cat "$tmp/no-token.out"
else
  grep -q 'UNAUTHENTICATED' "$tmp/no-token.out" && ok "no token: refused (UNAUTHENTICATED)" ||
    { bad "no token: refused without UNAUTHENTICATED"; cat "$tmp/no-token.out"; }
fi
if score plain --set cluster.tls_ca_file= --set cluster.tls_cert_file= --set cluster.tls_key_file=; then
  bad "a plain-text client was served by the TLS port"; cat "$tmp/plain.out"
else
  ok "plain-text client: refused by the TLS port"
fi

# ---------- 3. plain text without a token on a non-loopback bind: a warning
plain_port=$(free_port)
in_a "$seer" reward --set reward.address="0.0.0.0:$plain_port" --set reward.threads=1 >"$tmp/plain-reward.log" 2>&1 &
plain=$!
pids+=("$plain")
for _ in $(seq 100); do grep -q "listening" "$tmp/plain-reward.log" && break; sleep 0.1; done
grep -q "plain text without a bearer token" "$tmp/plain-reward.log" &&
  ok "plain text and no token on 0.0.0.0: warned" || { bad "no warning for an open plain-text bind"; cat "$tmp/plain-reward.log"; }
kill "$plain" 2>/dev/null
finish
