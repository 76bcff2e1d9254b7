#!/usr/bin/env python3
"""Measures single-GPU training iterations (forward + backward, no optimizer step) in PyTorch, to
hold `ddlsim predict` against the GPU it calibrated on, and to record with
`ddlsim calibrate --from-iteration`.

  python3 calibration/torch_iteration.py [--repeats N] [--json FILE]

Models, written out here layer by layer as models/ builds them:
  resnet50         ResNet-50 v1.5 (stride on the 3x3), batch 64, 224 x 224, cuDNN autotuner on,
                   cross-entropy on random labels; in fp32 (TF32 off) in NCHW, and in TF32
                   (PyTorch's default for cuDNN convolutions) in NCHW and channels-last;
  gpt2-124m-block  one GPT-2 124M block (768 wide, 12 heads, 3072 FFN), 8 x 1024 tokens, bf16;
                   attention two ways: "eager" (scores materialised, causal mask, softmax, as
                   models/ costs it plus the mask) and "sdpa" (scaled_dot_product_attention, which
                   picks a fused flash kernel).

Each iteration is timed with CUDA events, median of --repeats after 10 warm-up iterations.
Needs PyTorch with CUDA; nothing else.
"""
import argparse
import json
import math
import statistics
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("torch_iteration.py: needs PyTorch (import torch failed)")


class Bottleneck(nn.Module):
    def __init__(self, in_c, width, stride):
        super().__init__()
        out_c = 4 * width
        self.conv1 = nn.Conv2d(in_c, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_c)
        self.down = None
        if stride != 1 or in_c != out_c:
            self.down = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride=stride, bias=False), nn.BatchNorm2d(out_c))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, in_c = [], 64
        for stage, (width, count) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
            for i in range(count):
                blocks.append(Bottleneck(in_c, width, 2 if stage > 0 and i == 0 else 1))
                in_c = 4 * width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(in_c, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, stride=2, padding=1)
        x = self.blocks(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Gpt2Block(nn.Module):
    def __init__(self, width=768, heads=12, sdpa=False):
        super().__init__()
        self.heads, self.sdpa = heads, sdpa
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.fc_proj = nn.Linear(4 * width, width)

    def attention(self, x):
        b, s, w = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(w, dim=2)
        q, k, v = (t.view(b, s, self.heads, w // self.heads).transpose(1, 2) for t in (q, k, v))
        if self.sdpa:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(w // self.heads))
            mask = torch.ones(s, s, dtype=torch.bool, device=x.device).tril()
            o = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v
        return self.proj(o.transpose(1, 2).reshape(b, s, w))

    def forward(self, x):
        x = x + self.attention(x)
        return x + self.fc_proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


def median_ms(step, repeats):
    for _ in range(10):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times), max(times)


def resnet50(repeats, tf32, channels_last):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    model = ResNet50().cuda()
    x = torch.randn(64, 3, 224, 224, device="cuda")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    labels = torch.randint(0, 1000, (64,), device="cuda")

    def step():
        for p in model.parameters():
            p.grad = None
        F.cross_entropy(model(x), labels).backward()

    return median_ms(step, repeats)


def gpt2_block(repeats, sdpa):
    torch.manual_seed(0)
    block = Gpt2Block(sdpa=sdpa).cuda().to(torch.bfloat16)
    x = torch.randn(8, 1024, 768, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    grad = torch.randn_like(x)

    def step():
        for p in block.parameters():
            p.grad = None
        x.grad = None
        block(x).backward(grad)

    return median_ms(step, repeats)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json", help="also write the results here, one object per line")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_iteration.py: PyTorch sees no CUDA GPU")
    gpu = torch.cuda.get_device_name(0)
    runs = [
        ("resnet50", 64, "fp32", "nchw", lambda: resnet50(args.repeats, False, False)),
        ("resnet50", 64, "tf32", "nchw", lambda: resnet50(args.repeats, True, False)),
        ("resnet50", 64, "tf32", "nhwc", lambda: resnet50(args.repeats, True, True)),
        ("gpt2-124m-block", 8, "bf16", "eager", lambda: gpt2_block(args.repeats, False)),
        ("gpt2-124m-block", 8, "bf16", "sdpa", lambda: gpt2_block(args.repeats, True)),
    ]
    rows = []
    print(f"{gpu}, PyTorch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}; forward + backward, "
          f"median of {args.repeats}")
    for model, batch, precision, variant, run in runs:
        median, low, high = run()
        rows.append({"model": model, "batch": batch, "precision": precision, "variant": variant, "gpu": gpu,
                     "torch": torch.__version__, "median_ms": median, "min_ms": low, "max_ms": high})
        print(f"  {model:16s} batch {batch:3d} {precision} {variant:5s}  {median:9.3f} ms "
              f"(min {low:.3f}, max {high:.3f})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
