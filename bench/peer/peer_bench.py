#!/usr/bin/env python3
"""The peer of bench/peer_bench.cpp: the same workload with Hugging Face transformers, as the TRL-style stacks
(R1-V, VLM-R1, open-r1-multimodal) run it. Same checkpoint folder, same thread count, same ATen kernels
(Debian's python3-torch 1.13 is the LibTorch seer links). One call measures, after one warm-up each:
  rollout  model.generate(num_return_sequences=G, do_sample=True, temperature 1, top_k 0, top_p 1,
           min_new_tokens = max_new_tokens = N) on P prompts in one batch: generated tokens/s;
  grpo     TRL GRPOTrainer's step with num_iterations 1: reference log-probs (no grad), then policy log-probs
           with gradient (num_logits_to_keep: only the completion's logits), loss
           -(exp(lp - lp.detach()) * A - beta * k3) averaged per sequence then over the batch, AdamW:
           completion tokens/s;
  sft      model(..., labels) with the prompt masked (-100), backward, AdamW: trained tokens/s.
Prints one JSON line per measurement, keys as peer_bench.cpp's. Setup: bench/peer/setup.sh.
Usage: peer_bench.py --model DIR [--prompts 4] [--group 8] [--new-tokens 64] [--text-tokens 32] [--threads 2]
                     [--micro-batch 8] [--seed 1]
"""
import argparse
import json
import time

import torch
import transformers
import transformers.generation.utils
from transformers import LlavaForConditionalGeneration

# generate() asks whether the model is FSDP-wrapped by importing torch.distributed.fsdp, which Debian's torch 1.13
# cannot import under Python 3.11 (a dataclass default its metadata module declares). Nothing here is FSDP-wrapped.
transformers.generation.utils.is_fsdp_managed_module = lambda module: False


def emit(**kv):
    print(json.dumps({"bench": "peer_hf", **kv}), flush=True)


def completion_logps(model, ids, mask, pixels, n):
    """Log-probs of the last n tokens of each row (TRL _get_per_token_logps)."""
    logits = model(input_ids=ids, attention_mask=mask, pixel_values=pixels, num_logits_to_keep=n + 1).logits
    logits = logits[:, :-1, :]  # position t predicts token t + 1
    return torch.gather(logits.log_softmax(-1), 2, ids[:, -n:].unsqueeze(-1)).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--text-tokens", type=int, default=32)
    ap.add_argument("--micro-batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    P, G, N, L, mb = a.prompts, a.group, a.new_tokens, a.text_tokens, a.micro_batch

    policy = LlavaForConditionalGeneration.from_pretrained(a.model, torch_dtype=torch.float32)
    reference = LlavaForConditionalGeneration.from_pretrained(a.model, torch_dtype=torch.float32)
    reference.eval()
    cfg = policy.config
    S = cfg.vision_config.image_size
    F = (S // cfg.vision_config.patch_size) ** 2
    if cfg.vision_feature_select_strategy == "full":
        F += 1
    image_token = cfg.image_token_index

    rows = []
    for p in range(P):
        ids = [(p * 13 + 1) % 256, (p * 29 + 2) % 256] + [image_token] * F
        ids += [(p * 7 + t * 11 + 3) % 256 for t in range(L)]
        rows.append(ids)
    ids = torch.tensor(rows, dtype=torch.long)
    pixels = torch.rand(P, 3, S, S)
    mask = torch.ones_like(ids)

    policy.eval()
    gen_kwargs = dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=N, min_new_tokens=N,
                      num_return_sequences=G, pad_token_id=256,
                      bad_words_ids=[[image_token]])  # an image placeholder in a completion breaks the next pass
    with torch.no_grad():
        policy.generate(input_ids=ids, attention_mask=mask, pixel_values=pixels, **gen_kwargs)  # warm-up
        t0 = time.perf_counter()
        out = policy.generate(input_ids=ids, attention_mask=mask, pixel_values=pixels, **gen_kwargs)
        s = time.perf_counter() - t0
    generated = P * G * (out.shape[1] - ids.shape[1])
    emit(part="rollout", prompts=P, group=G, prompt_tokens=ids.shape[1], new_tokens=N, threads=a.threads,
         seconds=round(s, 4), tokens_per_s=round(generated / s, 2), transformers=transformers.__version__,
         torch=torch.__version__)

    # GRPO step (TRL, num_iterations = 1), on the generated sequences.
    seqs = out
    seq_mask = torch.ones_like(seqs)
    seq_pixels = pixels.repeat_interleave(G, dim=0)
    rewards = torch.tensor([float((p + k) % 3 == 0) for p in range(P) for k in range(G)]).view(P, G)
    adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-4)).view(-1)
    policy.vision_tower.requires_grad_(False)
    trainable = [p for p in policy.parameters() if p.requires_grad]
    beta = 0.04

    def grpo_step(opt):
        policy.train()
        ref = []
        with torch.no_grad():
            for b in range(0, P * G, mb):
                ref.append(completion_logps(reference, seqs[b:b + mb], seq_mask[b:b + mb], seq_pixels[b:b + mb], N))
        for i, b in enumerate(range(0, P * G, mb)):
            lp = completion_logps(policy, seqs[b:b + mb], seq_mask[b:b + mb], seq_pixels[b:b + mb], N)
            d = ref[i] - lp
            kl = torch.exp(d) - d - 1
            per_token = -(torch.exp(lp - lp.detach()) * adv[b:b + mb].unsqueeze(1) - beta * kl)
            loss = per_token.mean(1).sum() / (P * G)
            loss.backward()
        optimizer_step(opt)

    def optimizer_step(opt):
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad()

    def measure(part, step):
        """One warm-up step, then one timed, with a fresh AdamW."""
        opt = torch.optim.AdamW(trainable, lr=1e-6, weight_decay=0.0)
        step(opt)
        t0 = time.perf_counter()
        step(opt)
        s = time.perf_counter() - t0
        emit(part=part, sequences=P * G, seconds=round(s, 4), tokens_per_s=round(generated / s, 2))

    measure("grpo", grpo_step)

    # SFT step: every completion token a target.
    labels = seqs.clone()
    labels[:, :ids.shape[1]] = -100

    def sft_step(opt):
        policy.train()
        for b in range(0, P * G, mb):
            out = policy(input_ids=seqs[b:b + mb], attention_mask=seq_mask[b:b + mb],
                         pixel_values=seq_pixels[b:b + mb], labels=labels[b:b + mb])
            (out.loss * min(mb, P * G - b) / (P * G)).backward()
        optimizer_step(opt)

    measure("sft", sft_step)


if __name__ == "__main__":
    main()
