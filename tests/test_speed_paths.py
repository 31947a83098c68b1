"""The scale paths, end to end: distributed training under torchrun (2 CPU processes, gloo), survey-scale prediction
(flat memory on 10,000 rows, resume after a kill), compiled prediction, training and predicting from a packed store.
No timings are asserted here (those are in bench/)."""
import os, time, signal, subprocess, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from metallicity_cnn.core import example_sample, load_json, load_metrics
from metallicity_cnn.learner import build_model
from metallicity_cnn.model import save_model, load_model
from metallicity_cnn.packed import pack_images, pack_cli, PackedStore
from metallicity_cnn.predict import predict, bf16_native
from metallicity_cnn.train import train_run
from metallicity_cnn.cli import command_parser

SAMPLE = example_sample()
CAT = pd.read_csv(SAMPLE/'catalog.csv', dtype={'objID': str})
ENV = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')


def _tiny_model(path, size=32):
    "A random ResNet-18 run directory (prediction memory and resume do not need a trained model)"
    torch.manual_seed(0)
    meta = dict(arch='resnet18', targets=['oh_p50'], size=size, stats=([0.1, 0.1, 0.1], [0.2, 0.2, 0.2]),
                y_range=([7.8], [9.4]), ps=[0.25, 0.5], gaussian=False)
    save_model(build_model('resnet18', 1, meta['y_range']), meta, path)
    return path


def _repeated_catalog(d, n):
    "A catalogue of `n` ids whose images are symlinks to the 60 shipped real images, repeated"
    imgs = d/'imgs'; imgs.mkdir(exist_ok=True)
    ids = [f'{CAT.objID[i % len(CAT)]}{i:06d}' for i in range(n)]
    for i, id_ in enumerate(ids): (imgs/f'{id_}.jpg').symlink_to(SAMPLE/'images'/f'{CAT.objID[i % len(CAT)]}.jpg')
    pd.DataFrame({'objID': ids}).to_csv(d/'cat.csv', index=False)
    return d/'cat.csv', imgs


def _rss_mb(pid):
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path('/proc/self/status').exists(), reason='reads memory from /proc')
def test_predict_memory_is_flat_on_10000_rows(tmp_path):
    "`metallicity-cnn predict` on 10,000 galaxies: resident memory at the end is that of the first fifth of the run"
    cat, imgs = _repeated_catalog(tmp_path, 10_000)
    run, out = _tiny_model(tmp_path/'run'), tmp_path/'preds.csv'
    partial = Path(str(out) + '.partial')
    p = subprocess.Popen(['metallicity-cnn', 'predict', '--model', str(run), '--images', str(imgs), '--catalog', str(cat),
                          '--out', str(out), '--no-tta', '--bs', '128'], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples = []  # (bytes of output written so far, RSS in MB)
    while p.poll() is None:
        try: samples.append((partial.stat().st_size if partial.exists() else 0, _rss_mb(p.pid)))
        except (FileNotFoundError, ProcessLookupError, TypeError): pass
        time.sleep(0.05)
    log = p.stdout.read()
    assert p.returncode == 0, log
    res = pd.read_csv(out, dtype={'objID': str})
    assert len(res) == 10_000 and res.objID.is_unique
    row_bytes = out.stat().st_size / 10_000
    rows = np.array([s[0] / row_bytes for s in samples]); rss = np.array([s[1] for s in samples])
    early, late = rss[(rows > 1000) & (rows < 2500)], rss[rows >= 2500]
    assert len(early) >= 3 and len(late) >= 10, f"too few memory samples ({len(early)}, {len(late)})"
    growth = late.max() - early.max()
    print(f"RSS: {early.max():.0f} MB after 1000-2500 rows, {late.max():.0f} MB peak over rows 2500-10000 (growth {growth:+.1f} MB)")
    # holding the decoded images would grow by 10,000 x 49 kB = 490 MB; batches of 128 are 6 MB
    assert growth < 40, f"memory grew by {growth:.0f} MB over the run"


def test_predict_resumes_after_kill(tmp_path):
    "Killing `metallicity-cnn predict` with SIGKILL and running it again gives every galaxy once, as one uninterrupted run"
    n = 1500
    cat, imgs = _repeated_catalog(tmp_path, n)
    run, out = _tiny_model(tmp_path/'run'), tmp_path/'preds.csv'
    ck = Path(str(out) + '.partial.json')
    cmd = ['metallicity-cnn', 'predict', '--model', str(run), '--images', str(imgs), '--catalog', str(cat), '--out', str(out),
           '--no-tta', '--bs', '16']
    # checkpoints after every batch, so that the kill comes after some (the default is every 5 s)
    p = subprocess.Popen(cmd + ['--checkpoint-s', '0'], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while p.poll() is None and time.time() - t0 < 120:
        try:
            if load_json(ck)['done'] >= 64: break
        except (FileNotFoundError, ValueError): pass
        time.sleep(0.02)
    assert p.poll() is None, "the run finished before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    done = load_json(ck)['done']
    assert 64 <= done < n and not out.exists()
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    res = pd.read_csv(out, dtype={'objID': str})
    ref = predict(run, imgs, cat, progress=False, tta=False, bs=16)
    assert res.objID.tolist() == ref.objID.tolist()
    np.testing.assert_allclose(res.oh_p50_pred, ref.oh_p50_pred, atol=2e-5)
    assert not ck.exists()


@pytest.mark.parametrize('bf16', [False, True])
def test_compiled_prediction_matches_float32(tmp_path, bf16):
    """`predict(compile=True)` (torch.compile with frozen weights) gives the float32 predictions, also for a last, short
    batch; with `bf16=True` it compiles the folded bfloat16 body and stays near them"""
    run = _tiny_model(tmp_path/'run')
    if bf16 and not bf16_native('cpu'):
        from metallicity_cnn.predict import inference_model
        net = inference_model(load_model(run)[0], 'cpu', bf16=True, compile=True)
        assert net.dtype == torch.float32 and next(net.body.parameters()).dtype == torch.float32  # the fallback
        pytest.skip('this CPU has no native bfloat16 (avx512_bf16/amx_bf16): predict(bf16=True) runs float32 here, '
                    'which the float32 case tests; the fallback is asserted above')
    sub = CAT.head(40)
    ref = predict(run, SAMPLE/'images', sub, progress=False, tta=False, channels_last=False)
    with _no_compile_failure() as caught:
        fast = predict(run, SAMPLE/'images', sub, progress=False, tta=False, compile=True, bf16=bf16, bs=16)
    d = np.abs(fast.oh_p50_pred.to_numpy() - ref.oh_p50_pred.to_numpy())
    if not bf16: assert d.max() < 1e-4, d.max()
    else:
        assert not [w for w in caught.w if 'not folded' in str(w.message)]
        assert 0 < d.max() < 0.05, d.max()  # bfloat16 really ran, and stays near float32


class _no_compile_failure:
    "Fail if torch.compile fell back to eager (the test would then prove nothing about compiled prediction)"
    def __enter__(self):
        import warnings
        self.cm = warnings.catch_warnings(record=True); self.w = self.cm.__enter__(); warnings.simplefilter('always')
        return self
    def __exit__(self, *a):
        self.cm.__exit__(*a)
        bad = [str(w.message) for w in self.w if 'torch.compile failed' in str(w.message)]
        assert not bad, bad[0]


def test_train_and_predict_from_packed_store(tmp_path):
    "`pack` (through the CLI's option parser) then training and prediction read the store instead of JPEGs"
    sub = CAT
    sub.to_csv(tmp_path/'cat.csv', index=False)
    p = command_parser(pack_cli.__wrapped__)
    args = vars(p.parse_args(['--catalog', str(tmp_path/'cat.csv'), '--images', str(SAMPLE/'images'), '--out', str(tmp_path/'store')]))
    pack_cli.__wrapped__(**args)
    store = PackedStore(tmp_path/'store')
    assert len(store) == 60 and store.size == 128
    m = train_run(tmp_path/'store'/'catalog.csv', tmp_path/'store', tmp_path/'run', recipe='tiny', progress=False)
    assert (m['metrics']['valid']['oh_p50']['n'], m['metrics']['test']['oh_p50']['n']) == (12, 12)
    from_jpeg = predict(tmp_path/'run', SAMPLE/'images', sub, progress=False)
    from_store = predict(tmp_path/'run', tmp_path/'store', sub, progress=False)
    np.testing.assert_allclose(from_store.oh_p50_pred, from_jpeg.oh_p50_pred, atol=1e-5)


def test_pack_with_workers_in_a_spawned_daemon(tmp_path):
    """`pack_images(n_workers=2)` in a daemonic process started by `spawn` (a process that may not start children,
    under the start method the docs build's workers and Python 3.14's forkserver share) packs the same pixels"""
    import multiprocessing
    sub = CAT.head(6)
    p = multiprocessing.get_context('spawn').Process(target=pack_images, args=(sub, SAMPLE/'images', tmp_path/'s'),
                                                     kwargs=dict(size=64, n_workers=2, chunk=4, progress=False), daemon=True)
    p.start(); p.join(120)
    assert p.exitcode == 0, f'pack_images failed in the child (exit code {p.exitcode})'
    ref = pack_images(sub, SAMPLE/'images', tmp_path/'r', size=64, progress=False)
    np.testing.assert_array_equal(PackedStore(tmp_path/'s').images, ref.images)


@pytest.mark.skipif(shutil.which('torchrun') is None, reason='torchrun is not installed')
def test_distributed_training_two_cpu_processes(tmp_path):
    "`torchrun --nproc_per_node 2 metallicity-cnn train` on the CPU (gloo) trains data-parallel and writes one run directory"
    pytest.importorskip('accelerate')
    CAT.to_csv(tmp_path/'cat.csv', index=False)
    cmd = ['torchrun', '--nproc_per_node', '2', '--master_port', '29533', '--no-python', 'metallicity-cnn', 'train',
           '--catalog', str(tmp_path/'cat.csv'), '--images', str(SAMPLE/'images'), '--out', str(tmp_path/'run'), '--recipe', 'tiny']
    r = subprocess.run(cmd, env=dict(ENV, ACCELERATE_USE_CPU='1'), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cat.csv', 'run']
    assert sorted(p.name for p in (tmp_path/'run').iterdir()) == ['metrics.json', 'model.json', 'model.pt', 'split.csv']
    meta, metrics = load_json(tmp_path/'run'/'model.json'), load_metrics(tmp_path/'run')['metrics']
    assert meta['world_size'] == 2
    assert meta['metrics'] == metrics
    assert (metrics['valid']['oh_p50']['n'], metrics['test']['oh_p50']['n']) == (12, 12)
    assert np.isfinite(metrics['test']['oh_p50']['rmse'])
    assert log.count('catalog: 60 rows read') == 1  # only rank 0 reports
    model, _ = load_model(tmp_path/'run')
    with torch.no_grad(): y = model(torch.zeros(2, 3, 32, 32))
    assert y.shape == (2, 1) and torch.isfinite(y).all()
