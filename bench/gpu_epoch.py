"""GPU figures in one prepared run: epoch time of the library's training over a packed store of 90,000 128-px images with
mixed precision and channels_last, then `predict` images/s from the same store.

The store repeats the 400 real SDSS cutouts (simulated smooth blobs if the shared sample is not there) under new ids, so
the numbers are those of a 90,000-galaxy epoch; the paper's GPU needed 95-120 s per epoch, the target is <= 20 s on an H100.

    python bench/gpu_epoch.py                                  # 90,000 images, ResNet-34, batch 256, 2 epochs, bf16
    python bench/gpu_epoch.py --n 2000 --epochs 1 --device cpu --predict-n 256 --workers 2   # a dry run on a CPU

Prints the device, the training time of each epoch (and its images/s), the validation time, the predict rates with and
without TTA, and peak GPU memory; writes them as JSON to $OUT/gpu_epoch.json when $OUT is set.
"""
import argparse, os, sys, time, json, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the working tree's library, installed or not
import numpy as np, pandas as pd, torch
from fastai.vision.all import Callback, set_seed
from metallicity_cnn.core import sample_dir, save_json
from metallicity_cnn.data import read_table, galaxy_dls, load_catalog
from metallicity_cnn.packed import pack_images, PackedStore, PACK_META, PACK_IMAGES, PACK_CATALOG
from metallicity_cnn.learner import galaxy_learner
from metallicity_cnn.model import save_model
from metallicity_cnn.predict import predict


def base_images(tmp):
    "uint8 (400, 3, 128, 128) images and their metallicities: the real sample, or simulated blobs"
    try:
        s = sample_dir()
        store = pack_images(read_table(s/'catalog.csv'), s/'images', tmp/'base', size=128, progress=False)
        return np.asarray(store.images), store.catalog().oh_p50.to_numpy(np.float32)
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[-64:64, -64:64]
        r = rng.uniform(4, 20, 400); oh = (8.4 + 0.05 * r + rng.normal(0, 0.05, 400)).astype(np.float32)
        img = np.exp(-(xx**2 + yy**2)[None] / (2 * r[:, None, None]**2)) * 220
        return np.repeat(img[:, None], 3, 1).astype(np.uint8) + rng.integers(0, 20, (400, 3, 128, 128), dtype=np.uint8), oh


def repeated_store(path, n, tmp):
    "A packed store of `n` images repeating the base 400 (written in the store format directly)"
    imgs, oh = base_images(tmp)
    path.mkdir(parents=True, exist_ok=True)
    mm = np.memmap(path/PACK_IMAGES, np.uint8, 'w+', shape=(n, 3, 128, 128))
    for s in range(0, n, len(imgs)): mm[s:s+len(imgs)] = imgs[:min(len(imgs), n - s)]
    mm.flush(); del mm
    pd.DataFrame({'objID': [f'{i:09d}' for i in range(n)], 'oh_p50': np.resize(oh, n)}).to_csv(path/PACK_CATALOG, index=False)
    save_json(dict(n=n, size=128, shape=[n, 3, 128, 128], dtype='uint8', id_col='objID', source='repeated'), path/PACK_META)
    return PackedStore(path)


class ChannelsLast(Callback):
    "channels_last model and batches (the library's BF16CPU does this on CPUs; on GPUs fastai's to_bf16/to_fp16 do the autocast)"
    order = 9
    def before_fit(self): self.learn.model.to(memory_format=torch.channels_last)
    def before_batch(self): self.learn.xb = tuple(x.contiguous(memory_format=torch.channels_last) for x in self.xb)


class EpochTimes(Callback):
    "Wall time of each epoch's training and validation phases (synchronised with the GPU)"
    order = 99
    def before_fit(self): self.train, self.valid = [], []
    def _now(self):
        if torch.cuda.is_available(): torch.cuda.synchronize()
        return time.perf_counter()
    def before_train(self): self.t = self._now()
    def after_train(self): self.train.append(self._now() - self.t)
    def before_validate(self): self.t = self._now()
    def after_validate(self): self.valid.append(self._now() - self.t)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=90_000); p.add_argument('--n-valid', type=int, default=None, help='validation images (default: a tenth, at most 2000)')
    p.add_argument('--arch', default='resnet34'); p.add_argument('--bs', type=int, default=256)
    p.add_argument('--epochs', type=int, default=2); p.add_argument('--workers', type=int, default=min(12, os.cpu_count() or 1))
    p.add_argument('--precision', default='bf16', choices=['bf16', 'fp16', 'fp32'])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--predict-n', type=int, default=20_000); p.add_argument('--no-compile', action='store_true')
    p.add_argument('--tmp', default=None, help='directory for the store (default: a temporary one)')
    a = p.parse_args()
    dev = torch.device(a.device)
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'CPU ({os.cpu_count()} cores)'
    print(f"device: {name}; torch {torch.__version__}; {a.n} images, {a.arch}, batch {a.bs}, {a.precision}, "
          f"channels_last, {a.workers} loader workers", flush=True)
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    tmp = Path(a.tmp or tempfile.mkdtemp())
    t = time.perf_counter(); store = repeated_store(tmp/'store', a.n, tmp); build_s = time.perf_counter() - t
    df, _ = load_catalog(store.catalog(), store, size=128, progress=False)
    n_valid = a.n_valid if a.n_valid is not None else min(2000, max(1, a.n // 10))
    split = np.where(np.arange(len(df)) < len(df) - n_valid, 'train', 'valid')
    set_seed(0)
    dls = galaxy_dls(df, store, split, size=128, bs=a.bs, seed=0, num_workers=a.workers, device=dev)
    learn = galaxy_learner(dls, a.arch, bf16=dev.type == 'cpu')
    if dev.type == 'cuda' and a.precision != 'fp32': learn = learn.to_bf16() if a.precision == 'bf16' else learn.to_fp16()
    times = EpochTimes()
    with learn.no_bar(): learn.fit_one_cycle(a.epochs, 1e-3, cbs=[ChannelsLast(), times])
    n_train = (split == 'train').sum() // a.bs * a.bs
    res = dict(device=name, torch=torch.__version__, n=a.n, arch=a.arch, bs=a.bs, precision=a.precision, workers=a.workers,
               store_build_s=build_s, train_epoch_s=times.train, valid_s=times.valid,
               train_img_per_s=[n_train / t for t in times.train])
    if dev.type == 'cuda': res['peak_gpu_mem_gb_train'] = torch.cuda.max_memory_allocated(dev) / 2**30
    for e, (tt, tv) in enumerate(zip(times.train, times.valid)):
        print(f"epoch {e+1}: train {tt:.1f} s ({n_train / tt:.0f} img/s), validation {tv:.1f} s", flush=True)
    meta = dict(arch=a.arch, targets=['oh_p50'], size=128, stats=dls.stats, y_range=learn.y_range, ps=[0.25, 0.5], gaussian=False)
    save_model(learn.model.float(), meta, tmp/'run')
    cat = pd.DataFrame({'objID': store.ids[:a.predict_n]})
    for tta in (False, True):
        n = len(cat) if not tta else len(cat) // 8
        for compile in ([False] if a.no_compile else [False, True]):
            t = time.perf_counter()
            predict(tmp/'run', store, cat[:n], tta=tta, bs=a.bs // (8 if tta else 1), device=a.device, progress=False,
                    bf16=a.precision == 'bf16', compile=compile, workers=4)
            s = time.perf_counter() - t
            k = f"predict{'_tta' if tta else ''}{'_compile' if compile else ''}_img_per_s"
            res[k] = n * (8 if tta else 1) / s
            print(f"predict tta={tta} compile={compile}: {n} galaxies in {s:.1f} s = {res[k]:.0f} images/s (network inputs; "
                  f"compile and model loading counted)", flush=True)
    if dev.type == 'cuda': res['peak_gpu_mem_gb'] = torch.cuda.max_memory_allocated(dev) / 2**30
    print(json.dumps(res, indent=1, default=float))
    if os.environ.get('OUT'): save_json(res, Path(os.environ['OUT'])/'gpu_epoch.json')


if __name__ == '__main__': main()
