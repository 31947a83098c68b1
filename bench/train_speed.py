"""Training throughput of the library against bare PyTorch loops, measured in one run.

Three ways of training the same network (ResNet-34 at 128 px, batch 64 by default) on the same images (the 400 real SDSS
cutouts, packed once into a store so that JPEG decoding is measured separately, in bench/data_speed.py):

  bare fp32      a plain PyTorch loop: float32, contiguous tensors, torch.optim.AdamW
  bare fast      the same loop with channels_last tensors and bfloat16 autocast (what the library does on a CPU)
  library        galaxy_dls(packed store) + galaxy_learner + Learner.fit: fastai's loop, callbacks, dihedral augmentation

The three are measured in interleaved rounds (each round times `--batches` batches of each after one warm-up batch; the
library's first batch of each epoch, which sets up the data iterator after the validation pass, is not counted, as the
bare loops have no epochs); the ratios are the medians over rounds of ratios measured within a round. On a shared machine the wall-clock rate swings with
the load of other processes, so each batch is also timed in CPU seconds of this process (`time.process_time`): with
`--threads 1` (the default) that is the compute a batch costs, whatever else runs, and the CPU-time ratios are the
figures to quote; the wall-clock ones are printed beside them. Targets: library / bare fp32 >= 2, library / bare fast
>= 0.93. Peak resident memory of each (VmHWM, reset before each) is printed too.

    python bench/train_speed.py                                  # ResNet-34, 128 px, batch 64, 5 rounds of 6 batches
    python bench/train_speed.py --arch resnet18 --size 64 --rounds 2 --batches 3
    python bench/train_speed.py --profile                        # also profile the library's batches (top operators)
"""
import time, tempfile, statistics, contextlib
from pathlib import Path
import numpy as np, pandas as pd, torch
from fastai.vision.all import Callback, CancelFitException, set_seed
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir
from metallicity_cnn.data import read_table, galaxy_dls, load_catalog
from metallicity_cnn.packed import pack_images
from metallicity_cnn.learner import galaxy_learner, build_model, rmse_loss
from _measure import reset_peak, peak_mb, now


class BatchTimes(Callback):
    "Record the (wall, CPU) durations of training batches, each from the end of the one before in the same epoch; stop after `n`"
    order = 99
    def __init__(self, n): self.n, self.dts = n, []
    def before_fit(self): self.dts = []
    def before_epoch(self): self.last = None  # the first batch of an epoch (iterator set-up, warm-up) is not counted
    def after_batch(self):
        if not self.training: return
        t = now()
        if self.last is not None: self.dts.append(t - self.last)
        self.last = t
        if len(self.dts) >= self.n: raise CancelFitException()


def library_round(learn, n):
    "(wall, CPU) images/s of `n` library training batches (data loading, augmentation and callbacks included)"
    cb = BatchTimes(n)
    with learn.no_bar(), learn.no_logging(): learn.fit(1000, 1e-3, cbs=cb)
    return n * learn.dls.bs / np.sum(cb.dts, 0)


class BareLoop:
    "A plain PyTorch training loop over batches drawn at random from the packed images"
    def __init__(self, images, y, stats, arch, y_range, bs, fast, seed=0):
        torch.manual_seed(seed)
        self.images, self.y, self.bs, self.fast = images, torch.as_tensor(y), bs, fast
        self.model = build_model(arch, 1, y_range).train()
        self.mem = torch.channels_last if fast else torch.contiguous_format
        self.model = self.model.to(memory_format=self.mem)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=1e-2)
        self.m, self.s = (torch.tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in stats)
        self.rng = np.random.default_rng(seed)

    def step(self):
        idx = np.sort(self.rng.choice(len(self.images), self.bs, replace=False))
        x = (torch.from_numpy(np.asarray(self.images[idx])).float() / 255 - self.m) / self.s
        x, y = x.contiguous(memory_format=self.mem), self.y[idx]
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.fast):
            loss = rmse_loss(self.model(x).float(), y)
        self.opt.zero_grad(); loss.backward(); self.opt.step()

    def round(self, n):
        self.step()
        t0 = now()
        for _ in range(n): self.step()
        return n * self.bs / (now() - t0)


@call_parse
def main(arch:str='resnet34', # network architecture
         size:int=128, # image side in pixels
         bs:int=64, # batch size
         rounds:int=5, # interleaved rounds of measurement
         batches:int=6, # timed batches per method and round
         threads:int=1, # torch threads (1: CPU time measures the compute alone)
         profile:bool=False, # profile 2 library batches and print the top operators
        ):
    "Training images/s of the library against bare PyTorch loops (float32; channels_last + bfloat16), in interleaved rounds"
    torch.set_num_threads(threads)
    sample = sample_dir()
    tmp = Path(tempfile.mkdtemp())
    store = pack_images(read_table(sample/'catalog.csv'), sample/'images', tmp/'store', size=size, progress=False)
    df, _ = load_catalog(store.catalog(), store, size=size, progress=False)
    split = np.where(np.arange(len(df)) < len(df) - 1, 'train', 'valid')  # validation (between epochs) on 1 galaxy only
    set_seed(0)
    dls = galaxy_dls(df, store, split, size=size, bs=bs, seed=0)
    learn = galaxy_learner(dls, arch)
    y = df[['oh_p50']].to_numpy(np.float32)
    bare = {k: BareLoop(store.images, y, dls.stats, arch, learn.y_range, bs, fast)
            for k, fast in (('bare fp32', False), ('bare fast', True))}
    runs = {'bare fp32': lambda: bare['bare fp32'].round(batches), 'bare fast': lambda: bare['bare fast'].round(batches),
            'library': lambda: library_round(learn, batches)}
    print(f"{arch} at {size} px, batch {bs}, {torch.get_num_threads()} threads, {rounds} rounds of {batches} batches "
          f"(torch {torch.__version__})", flush=True)
    rates, peaks = {k: [] for k in runs}, {k: 0. for k in runs}
    can_reset = True
    for r in range(rounds):
        for k, f in runs.items():
            can_reset = reset_peak() and can_reset
            rates[k].append(f()); peaks[k] = max(peaks[k], peak_mb())
        print(f"round {r+1}: " + ', '.join(f"{k} {v[-1][0]:.1f} img/s wall, {v[-1][1]:.1f} img/CPU-s" for k, v in rates.items()), flush=True)
    ratio = lambda k, ref, i: statistics.median(x[i] / b[i] for x, b in zip(rates[k], rates[ref]))
    med = lambda k, i: statistics.median(x[i] for x in rates[k])
    print()
    for k in runs: print(f"{k:10s} {med(k, 0):7.1f} img/s wall, {med(k, 1):7.1f} img per CPU-second (medians of rounds)  "
                         f"peak RSS {peaks[k]:6.0f} MB" + ('' if can_reset else ' (process peak: VmHWM could not be reset)'))
    for k, ref, target in (('library', 'bare fp32', '>= 2'), ('library', 'bare fast', '>= 0.93'), ('bare fast', 'bare fp32', '')):
        print(f"{k} / {ref}: {ratio(k, ref, 1):.2f} in CPU time, {ratio(k, ref, 0):.2f} in wall time" + (f"  (target {target})" if target else ''))
    if profile:
        from torch.profiler import profile as torch_profile, ProfilerActivity
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof: library_round(learn, 2)
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))

