#!/usr/bin/env python3
"""Reference outputs of a tiny random Qwen2_5_VLForConditionalGeneration, made with Hugging Face transformers,
for seer's golden test (tests/model/qwen2vl_golden_test.cpp). Same tensor names and layout as
../shared/golden/qwen2-vl, so the one test checks both; vision intermediates are recorded in patch order
(transformers runs the windowed blocks in window order; the hooks' outputs are put back with the inverse of
get_window_index).

Usage (not in CI; needs the pinned versions below in a virtual environment):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch==2.5.1 transformers==4.49.0 safetensors pillow numpy
    .venv-ref/bin/python scripts/golden/qwen2_5_vl_reference.py ../shared/golden/qwen2-vl/image.png tests/golden/qwen2_5-vl
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.torch import save_file
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessor

SEED = 1267


def redraw(model, seed):
    """Every parameter re-drawn so the checks see non-trivial values (not HF's init): 1-D weights 1 + 0.2 N,
    biases 0.2 N, token embeddings N(0, 1), other weights N(0, 1) / sqrt(fan_in)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            n = torch.randn(p.shape, generator=g)
            if name.endswith("bias"):
                p.copy_(0.2 * n)
            elif p.dim() == 1:
                p.copy_(1 + 0.2 * n)
            elif "embed_tokens" in name:
                p.copy_(n)
            else:
                p.copy_(n / np.sqrt(p[0].numel()))


def main(image_path, out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    config = Qwen2_5_VLConfig(
        vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}, tie_word_embeddings=False,
        vision_start_token_id=500, vision_end_token_id=501, image_token_id=502, video_token_id=503,
        bos_token_id=504, eos_token_id=505, pad_token_id=506,
        vision_config={"depth": 4, "hidden_size": 32, "intermediate_size": 48, "num_heads": 4, "out_hidden_size": 64,
                       "window_size": 56, "fullatt_block_indexes": [1, 3], "patch_size": 14, "spatial_merge_size": 2,
                       "temporal_patch_size": 2, "in_chans": 3, "hidden_act": "silu"})
    model = Qwen2_5_VLForConditionalGeneration._from_config(config, attn_implementation="eager")
    redraw(model, SEED + 1)
    model.save_pretrained(out, safe_serialization=True)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(out, attn_implementation="eager").eval()

    # A 150x90 version of the image: a 6x10 patch grid, 3x5 merge units, windows of 2x2 units (some partial).
    image = Image.open(image_path).convert("RGB").resize((150, 90), Image.BICUBIC)
    image.save(os.path.join(out, "image.png"))
    proc = Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12544)
    proc.save_pretrained(out)
    inputs = proc(images=Image.open(os.path.join(out, "image.png")), return_tensors="pt")
    pixel_values, grid = inputs["pixel_values"], inputs["image_grid_thw"]
    n_image = int(grid.prod()) // 4
    g = torch.Generator().manual_seed(SEED + 2)
    text = lambda k: torch.randint(0, 500, (k,), generator=g)
    input_ids = torch.cat([text(5), torch.tensor([500]), torch.full((n_image,), 502), torch.tensor([501]), text(6)])[None]
    attention_mask = torch.ones_like(input_ids)

    t = {"input.pixel_values": pixel_values, "input.image_grid_thw": grid, "input.input_ids": input_ids,
         "input.attention_mask": attention_mask}
    with torch.no_grad():
        position_ids, deltas = model.get_rope_index(input_ids=input_ids, image_grid_thw=grid, attention_mask=attention_mask)
        t["rope.position_ids"], t["rope.rope_deltas"] = position_ids, deltas
        window_index, _ = model.visual.get_window_index(grid)
        patch_order = (window_index[:, None] * 4 + torch.arange(4)).flatten()
        to_patch_order = torch.argsort(patch_order)
        t["vision.rotary_pos_emb"] = model.visual.rot_pos_emb(grid)
        hooks, seen = [], {}
        hooks.append(model.visual.patch_embed.register_forward_hook(lambda m, i, o: seen.__setitem__("vision.patch_embed", o)))
        for b, blk in enumerate(model.visual.blocks):
            hooks.append(blk.register_forward_hook(
                lambda m, i, o, b=b: seen.__setitem__(f"vision.block_output.{b}", o[to_patch_order])))
        hooks.append(model.visual.merger.register_forward_hook(
            lambda m, i, o: seen.__setitem__("vision.last_hidden_state", i[0][to_patch_order])))
        for li, layer in enumerate(model.model.layers):
            hooks.append(layer.register_forward_hook(lambda m, i, o, li=li: seen.__setitem__(f"llm.layer_output.{li}", o[0])))
        t["projector.image_features"] = model.visual(pixel_values, grid_thw=grid)
        res = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values, image_grid_thw=grid,
                    position_ids=position_ids, output_hidden_states=True)
        for h in hooks:
            h.remove()
        t.update(seen)
        t["llm.inputs_embeds"] = res.hidden_states[0]
        t["llm.final_norm"] = res.hidden_states[-1]
        t["logits"] = res.logits
        cos, sin = model.model.rotary_emb(res.hidden_states[0], position_ids)
        t["rope.cos"], t["rope.sin"] = cos, sin
        gen = model.generate(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values,
                             image_grid_thw=grid, do_sample=False, max_new_tokens=8, output_logits=True,
                             return_dict_in_generate=True)
        t["generate.new_tokens"] = gen.sequences[:, input_ids.shape[1]:]
        t["generate.sequences"] = gen.sequences
        t["generate.step_logits"] = torch.stack(gen.logits)
        top2 = torch.stack(gen.logits)[:, 0].topk(2, -1).values
        gap = float((top2[:, 0] - top2[:, 1]).min())
    save_file({k: v.contiguous().clone() for k, v in t.items()}, os.path.join(out, "cases.safetensors"))
    with open(os.path.join(out, "provenance.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__,
                   "seed": SEED, "attn_implementation": "eager", "dtype": "float32",
                   "image": "image.png = ../shared/golden/qwen2-vl/image.png resized to 150x90 (PIL bicubic)",
                   "min_top2_logit_gap": gap}, f, indent=2)
    print(f"wrote {out}: grid {grid.tolist()}, {n_image} image tokens, smallest greedy top-2 gap {gap:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
