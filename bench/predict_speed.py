"""Inference throughput of the library's `predict` against a bare float32 `model(x)`, measured in one run.

  bare fp32     model(x) under torch.inference_mode on batches already in memory (float32, contiguous)
  predict ...   metallicity_cnn.predict.predict on a packed store of the 400 real SDSS cutouts (reading, normalising,
                writing the CSV rows included), in its variants: default (channels_last, float32), compile (torch.compile
                with frozen weights), bf16 (batch norms folded, body in bfloat16), bf16+compile; each without and with
                the model's own TTA

For each variant: the steady rate (images, i.e. network inputs, per second between the end of the first batch and the end
of the last; a TTA galaxy is as many images as the model's TTA has views: 8 dihedral, 32 rotate), the time of the first batch (which holds the compilation), the rate over the whole
call (compile time counted), and the largest, 99th-percentile and median difference from the float32 predictions in
dex. The bare rate is measured
right before each variant, and each ratio is taken to that measurement. On a shared machine wall-clock rates swing with
the load of other processes, so every rate is also measured in CPU seconds of this process (`time.process_time`, all
threads): with `--threads 1` (the default) that is the compute the work costs whatever else runs, and the CPU-time ratios
are the figures to quote. Peak resident memory of each variant (VmHWM, reset before each) is printed too. Target:
predict / bare >= 2.5 with predictions within 0.005 dex of float32.

    python bench/predict_speed.py                      # ResNet-34 at 128 px trained on the real sample (else random):
    python bench/train_real.py --seeds 0 --set arch=resnet34 size=128 epochs=40   # trains it (about 4 min)
    python bench/predict_speed.py --model RUN_DIR --n 320 --bs 64 --variants default compile
    python bench/predict_speed.py --model bench/out/cv5/fold0 --json bench/out/predict-speed/predict_speed.json   # the results page's
"""
import time, tempfile, statistics
from pathlib import Path
import numpy as np, pandas as pd, torch
from fastcore.script import call_parse, Param
import metallicity_cnn.predict as P
from metallicity_cnn.core import sample_dir, save_json
from metallicity_cnn.data import read_table
from metallicity_cnn.learner import build_model
from metallicity_cnn.model import save_model, load_model, GalaxyModel
from metallicity_cnn.packed import pack_images
from _measure import reset_peak, peak_mb, now

VARIANTS = {'default': {}, 'compile': dict(compile=True), 'bf16': dict(bf16=True), 'bf16+compile': dict(bf16=True, compile=True)}


def bare_rate(model, x, reps=2):
    "(wall, CPU) images/s of float32 `model(x)` (best of `reps` after a warm-up)"
    with torch.inference_mode():
        model(x); ts = []
        for _ in range(reps): t = now(); model(x); ts.append(now() - t)
    return len(x) / np.min(ts, 0)


def timed_predict(run, store, cat, bs, tta, **kw):
    "Run `predict`, recording the (wall, CPU) time at the end of each batch; return (predictions, batch end times, start time)"
    ends, orig = [], P.predict_batch
    def timed(*a, **k):
        r = orig(*a, **k); ends.append(now()); return r
    P.predict_batch = timed
    try:
        t0 = now()
        res = P.predict(run, store, cat, bs=bs, tta=tta, progress=False, **kw)
    finally: P.predict_batch = orig
    return res, ends, t0


@call_parse
def main(model:str='bench/out/real-default-archresnet34-size128-epochs40-s0', # run directory (a random ResNet-34 at 128 px if missing)
         n:int=320, # galaxies per call without TTA (TTA calls use n/4, at least 4 batches)
         bs:int=64, # batch size
         variants:Param('predict variants to time', str, nargs='+', choices=list(VARIANTS))=list(VARIANTS),
         threads:int=1, # torch threads (1: CPU time measures the compute alone)
         json:str=None, # also write the table, the model and the machine to this JSON file (for bench/results.py)
        ):
    "Images/s of `predict` in each variant against a bare float32 `model(x)`, and the variants' differences from float32"
    torch.set_num_threads(threads)
    tmp = Path(tempfile.mkdtemp())
    run = Path(model)
    if not (run/'model.pt').exists():
        run = tmp/'run'
        meta = dict(arch='resnet34', targets=['oh_p50'], size=128, stats=([0.1]*3, [0.2]*3), y_range=([7.8], [9.4]), ps=[0.25, 0.5], gaussian=False)
        torch.manual_seed(0); save_model(build_model('resnet34', 1, meta['y_range']), meta, run)
        print(f"{model} has no model: using a random ResNet-34 at 128 px (accuracy figures then mean little)")
    net, meta = load_model(run)
    views_tta = P.TTA_MODES[P.tta_mode(GalaxyModel.load(run).tta)] # the model's own test-time augmentation
    sample = sample_dir()
    store = pack_images(read_table(sample/'catalog.csv'), sample/'images', tmp/'store', size=128, progress=False)
    ids = pd.Series(np.resize(store.ids.to_numpy(), n))
    x = P.normalize(torch.from_numpy(store.load(store.rows(ids[:bs]), meta['size'])), meta['stats'])
    print(f"{meta['arch']} at {meta['size']} px, batch {bs}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"bf16 native: {P.bf16_native('cpu')}", flush=True)
    rows = []
    for tta in (False, True):
        n_call = n if not tta else max(n // 4, 4 * max(bs // views_tta, 1))
        bs_call = bs if not tta else max(bs // views_tta, 1)
        cat = pd.DataFrame({'objID': store.ids[:n_call]}) if n_call <= len(store) else pd.DataFrame({'objID': np.resize(store.ids.to_numpy(), n_call)}).drop_duplicates()
        ref = None
        for v in ['fp32'] + variants:
            kw = dict(channels_last=False) if v == 'fp32' else VARIANTS[v]
            bare = bare_rate(net, x)
            reset_peak()
            res, ends, t0 = timed_predict(run, store, cat, bs_call, tta, **kw)
            views = views_tta if tta else 1
            steady = (len(ends) - 1) * bs_call * views / (ends[-1] - ends[0])
            total = len(cat) * views / (ends[-1] - t0)
            if ref is None: ref = res.oh_p50_pred.to_numpy()
            d = np.abs(res.oh_p50_pred.to_numpy() - ref)
            dmax, d99, dmed = d.max(), np.quantile(d, 0.99), np.median(d)
            rows.append(dict(variant=v, tta=tta, views=views, galaxies=len(cat), bare_wall=bare[0], bare_cpu=bare[1], steady_wall=steady[0],
                             steady_cpu=steady[1], ratio_cpu=steady[1] / bare[1], ratio_wall=steady[0] / bare[0],
                             first_batch_s=(ends[0] - t0)[0], whole_cpu=total[1], ratio_whole_cpu=total[1] / bare[1],
                             max_diff_dex=dmax, p99_diff_dex=d99, median_diff_dex=dmed, peak_mb=peak_mb()))
            r = rows[-1]
            print(f"tta={str(tta):5s} {v:13s} bare {bare[1]:5.1f} img/CPU-s | predict steady {steady[1]:5.1f} img/CPU-s = "
                  f"{r['ratio_cpu']:.2f}x ({r['ratio_wall']:.2f}x in wall time) | first batch {r['first_batch_s']:5.1f} s wall | "
                  f"whole call incl. compile {total[1]:5.1f} img/CPU-s = {r['ratio_whole_cpu']:.2f}x | |diff| max {dmax:.4f} p99 {d99:.4f} median {dmed:.4f} dex | "
                  f"peak RSS {r['peak_mb']:.0f} MB", flush=True)
    print()
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    if json: save_json(dict(model=str(model), arch=meta['arch'], size=meta['size'], bs=bs, threads=torch.get_num_threads(),
                            bf16_native=P.bf16_native('cpu'), torch=torch.__version__, rows=rows,
                            command=f"python bench/predict_speed.py --model {model} --json {json}"), json)

