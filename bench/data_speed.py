"""Data path throughput per worker: can one data-loading process keep the network fed?

Measured in this process with one torch thread, as in a DataLoader worker process, in interleaved rounds:

  decode          load_image: JPEG decode + resample of the 400 real SDSS cutouts
  jpeg pipeline   galaxy_dls training batches from the JPEGs: decode, resize, dihedral augmentation, collation, normalisation
  packed pipeline galaxy_dls training batches from a packed store (metallicity-cnn pack): no JPEG decoding

Then, for a training rate R images/s (measured here for ResNet-34 at `--size` px with the library's bf16 path, or given
with --train_rate), the number of workers each path needs to keep up: ceil(R / rate per worker). Peak resident memory of
each (VmHWM, reset before each) is printed too.

    python bench/data_speed.py                       # 128 px, batch 64, 3 rounds
    python bench/data_speed.py --size 64 --train_rate 1500   # e.g. the training rate of a GPU, from bench/gpu_epoch.py
"""
import time, tempfile, statistics, math
from pathlib import Path
import numpy as np, torch
from fastai.vision.all import set_seed
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir
from metallicity_cnn.data import read_table, load_catalog, galaxy_dls, load_image
from metallicity_cnn.packed import pack_images
from _measure import reset_peak, peak_mb


def decode_rate(files, size):
    t = time.perf_counter()
    for f in files: load_image(f, size)
    return len(files) / (time.perf_counter() - t)


def pipeline_rate(dls, n_batches):
    "Images/s of the training DataLoader (one epoch at most), after its first batch"
    it = iter(dls.train); next(it)
    t, n = time.perf_counter(), 0
    for _, (xb, yb) in zip(range(n_batches), it): n += len(xb)
    return n / (time.perf_counter() - t)


def training_rate(dls, arch, n=3):
    "Images/s of the library's training loop (bf16 + channels_last on a CPU) for `n` batches after one warm-up"
    from metallicity_cnn.learner import galaxy_learner
    from fastai.vision.all import Callback, CancelFitException
    class Stop(Callback):
        order = 99
        def before_fit(self): self.t = []
        def after_batch(self):
            self.t.append(time.perf_counter())
            if len(self.t) > n: raise CancelFitException()
    learn, cb = galaxy_learner(dls, arch), Stop()
    with learn.no_bar(), learn.no_logging(): learn.fit(100, 1e-3, cbs=cb)
    return n * dls.bs / (cb.t[-1] - cb.t[0])


@call_parse
def main(size:int=128, # image side in pixels
         bs:int=64, # batch size
         rounds:int=3, # interleaved rounds of measurement
         arch:str='resnet34', # network whose training rate is measured (unless --train_rate)
         train_rate:float=None, # training images/s to feed (default: measured here)
        ):
    "Images/s per data-loading worker of JPEG decoding and of the JPEG and packed training pipelines; workers needed to feed training"
    sample = sample_dir()
    cat = read_table(sample/'catalog.csv')
    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    store = pack_images(cat, sample/'images', tmp/'store', size=128, progress=False)
    pack_s = time.perf_counter() - t
    df, _ = load_catalog(cat, sample/'images', progress=False)
    split = np.where(np.arange(len(df)) < len(df) - 1, 'train', 'valid')
    set_seed(0)
    dls_j = galaxy_dls(df, sample/'images', split, size=size, bs=bs, seed=0)
    dls_p = galaxy_dls(df, store, split, size=size, bs=bs, seed=0, stats=dls_j.stats)
    files = [sample/'images'/f'{i}.jpg' for i in df.objID]
    nb = (len(df) - 1) // bs - 1
    runs = {'decode': lambda: decode_rate(files, size), 'jpeg pipeline': lambda: pipeline_rate(dls_j, nb),
            'packed pipeline': lambda: pipeline_rate(dls_p, nb)}
    R = train_rate or training_rate(dls_p, arch)  # with all threads, as training runs
    torch.set_num_threads(1)  # a DataLoader worker runs single-threaded
    print(f"{size} px, batch {bs}, one worker (this process, 1 thread), {rounds} rounds; packing 400 images took {pack_s:.1f} s "
          f"({400/pack_s:.0f} img/s)", flush=True)
    rates, peaks = {k: [] for k in runs}, {k: 0. for k in runs}
    for r in range(rounds):
        for k, f in runs.items():
            reset_peak(); rates[k].append(f()); peaks[k] = max(peaks[k], peak_mb())
        print(f"round {r+1}: " + ', '.join(f"{k} {v[-1]:.0f} img/s" for k, v in rates.items()), flush=True)
    print(f"\ntraining consumes {R:.0f} img/s ({'given' if train_rate else f'{arch}, library bf16 path, measured here'})")
    for k in runs:
        m = statistics.median(rates[k])
        print(f"{k:16s} {m:7.0f} img/s per worker (median)  peak RSS {peaks[k]:6.0f} MB  workers needed: {math.ceil(R / m)}")
    print(f"packed / jpeg pipeline: {statistics.median(p / j for p, j in zip(rates['packed pipeline'], rates['jpeg pipeline'])):.2f}x")

