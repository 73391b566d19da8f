#!/usr/bin/env python3
"""A LoRA adapter folder written by PEFT itself, with its logits, for seer's LoRA test (tests/model/lora_test.cpp):
seer must read PEFT's adapter_config.json and adapter_model.safetensors, compute the same logits with the
adapters on and off, write the same tensor names and config keys, and merge to the same model.

Writes OUT/base (a tiny random LlamaForCausalLM, HF layout), OUT/adapter (PEFT save_pretrained of a LoRA on
q_proj, v_proj and down_proj with non-zero B, so the adapter changes the logits), OUT/cases.safetensors
(input_ids, logits_lora: with the adapter, logits_base: PEFT's disable_adapter(), logits_merged:
merge_and_unload()) and OUT/provenance.json (versions).

Usage (not in CI; pinned versions in a project-local virtual environment):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch==2.15.0 transformers==5.25.0 peft==0.21.2 safetensors
    .venv-ref/bin/python scripts/golden/peft_lora_reference.py tests/golden/peft-lora
"""
import json
import os
import sys

import peft
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

SEED = 1301


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    config = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1,
                         eos_token_id=2, pad_token_id=0)
    base = LlamaForCausalLM(config).eval()
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():  # non-trivial values everywhere (HF's init leaves norms at 1)
        for _, p in sorted(base.named_parameters()):
            n = torch.randn(p.shape, generator=g)
            p.copy_(1 + 0.2 * n if p.dim() == 1 else n / p[0].numel() ** 0.5)
    base.save_pretrained(os.path.join(out, "base"), safe_serialization=True)

    # Load the base from its folder so PEFT records where it lives; relative to the adapter folder.
    cwd = os.getcwd()
    os.makedirs(os.path.join(out, "adapter"), exist_ok=True)
    os.chdir(os.path.join(out, "adapter"))
    model = LlamaForCausalLM.from_pretrained("../base", attn_implementation="eager").eval()
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "down_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")  # init False: B is not zero
    model = get_peft_model(model, lora).eval()
    model.save_pretrained(".")
    os.chdir(cwd)

    ids = torch.randint(3, config.vocab_size, (2, 7), generator=torch.Generator().manual_seed(SEED + 2))
    with torch.no_grad():
        logits_lora = model(input_ids=ids).logits
        with model.disable_adapter():
            logits_base = model(input_ids=ids).logits
        merged = model.merge_and_unload()
        logits_merged = merged(input_ids=ids).logits
    save_file({"input_ids": ids.to(torch.int64), "logits_lora": logits_lora.float().contiguous(),
               "logits_base": logits_base.float().contiguous(), "logits_merged": logits_merged.float().contiguous()},
              os.path.join(out, "cases.safetensors"))
    with open(os.path.join(out, "provenance.json"), "w") as f:
        json.dump({"script": "scripts/golden/peft_lora_reference.py", "seed": SEED, "torch": torch.__version__,
                   "transformers": transformers.__version__, "peft": peft.__version__, "dtype": "float32",
                   "attn_implementation": "eager"}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
