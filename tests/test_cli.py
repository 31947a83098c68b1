"End-to-end tests of the `metallicity-cnn` command line on real SDSS galaxies: train -> predict -> evaluate."
import json, shutil
import numpy as np, pandas as pd
from conftest import cli
from metallicity_cnn.core import load_metrics, calibrated_coverage

def test_train_writes_run(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == ['metrics.json', 'model.json', 'model.pt', 'split.csv']
    doc = load_metrics(run_dir)  # validated against the one metrics.json layout (metallicity_cnn.core.check_metrics)
    assert doc['command'] == 'train' and doc['recipe'] == 'tiny' and doc['n_train'] == 36
    m = doc['metrics']
    for s, n in (('valid', 12), ('test', 12)):
        v = m[s]['oh_p50']
        assert v['n'] == n and 0 < v['rmse'] < 1 and 0 < v['nmad'] < 1 and abs(v['bias']) < 1
        assert v['rmse_ci68'][0] <= v['rmse'] <= v['rmse_ci68'][1]
    meta = json.loads((run_dir/'model.json').read_text())
    assert meta['arch'] == 'resnet18' and meta['size'] == 32 and meta['targets'] == ['oh_p50']
    assert meta['pretrained'] == 'random' and meta['normalisation'] == 'dataset'
    assert meta['recipe']['name'] == 'tiny' and meta['split_seed'] == 0 and 'fastai' in meta['versions']
    split = pd.read_csv(run_dir/'split.csv')
    assert split.split.value_counts().to_dict() == {'train': 36, 'valid': 12, 'test': 12}

def test_train_says_random_init(sample, small_catalog, tmp_path):
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'r', '--recipe', 'tiny',
            '--pretrained', 'none', '--size', 16)
    assert 'from random initialisation' in r.stdout
    assert 'test  oh_p50: RMSE' in r.stdout
    # stdout is a pipe here, as in a log file: the epochs as plain lines, no progress-bar redraws
    assert '\r' not in r.stdout and '█' not in r.stdout
    assert any(l.split()[:3] == ['epoch', 'train_loss', 'valid_loss'] for l in r.stdout.splitlines())
    assert json.loads((tmp_path/'r'/'model.json').read_text())['size'] == 16

def test_train_chooses_the_recipe(sample, small_catalog, tmp_path):
    "Without --recipe, train picks one for the number of training galaxies and says which and why, in the log and model.json"
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'r', '--epochs', 1, '--size', 16)
    meta = json.loads((tmp_path/'r'/'model.json').read_text())
    assert meta['recipe']['name'] == 'default' and meta['recipe']['epochs'] == 1 and meta['n_train'] == 36
    assert meta['recipe_reason'].startswith("chosen for this sample (recipe 'auto'): 36 training galaxies (fewer than 20000)")
    assert f"recipe 'default': {meta['recipe_reason']}" in r.stdout

def test_train_ensemble_predict_evaluate(sample, small_catalog, tmp_path):
    out = tmp_path/'ens'
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', out, '--recipe', 'tiny', '--ensemble', 2, '--size', 16)
    assert 'member 2/2 (seed 1)' in r.stdout and 'coverage of the error bars: 68%' in r.stdout
    assert 'torch.jit.script' not in r.stderr # fastai's deprecation warning, hidden by the command line
    meta = json.loads((out/'model.json').read_text())
    assert meta['kind'] == 'ensemble' and meta['members'] == ['member0', 'member1'] and meta['seeds'] == [0, 1] and meta['err_scale'][0] > 0
    s0, s1 = (pd.read_csv(out/f'member{i}'/'split.csv') for i in range(2))
    assert s0.equals(s1) and s0.equals(pd.read_csv(out/'split.csv')) # one split, shared
    cli('evaluate', '--model', out, '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'rep', '--split', 'test', '--no-figures')
    rep = load_metrics(tmp_path/'rep')
    test_m = load_metrics(out)['metrics']['test']['oh_p50']
    assert rep['ensemble'] == 2 and rep['n'] == 12 and abs(rep['metrics']['test']['oh_p50']['rmse'] - test_m['rmse']) < 1e-4
    assert abs(rep['uncertainty']['oh_p50']['coverage68'] - test_m['coverage68']) < 1e-9 # the ensemble's error bar, on held-out galaxies
    assert test_m['coverage68_calibrated'] == calibrated_coverage(12, 12) and 'exactly calibrated: [' in r.stdout # scaled on 12 validation galaxies
    pr = pd.read_csv(tmp_path/'rep'/'predictions.csv')
    assert {'oh_p50_member_std', 'oh_p50_err'} <= set(pr.columns)
    cli('baselines', '--model', out, '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'bl', '--no-rband', '--features', 'image')
    bl = json.loads((tmp_path/'bl'/'baselines.json').read_text())
    assert bl['ensemble'] == 2 and bl['n_test'] == 12 and abs(bl['metrics']['oh_p50']['cnn_gri']['rmse'] - test_m['rmse']) < 1e-4

def test_predict_folder_and_catalog(run_dir, sample, catalog, tmp_path):
    imgs = tmp_path/'imgs'; imgs.mkdir()
    ids = catalog.objID[:7].tolist()
    for i in ids: shutil.copy(sample/'images'/f'{i}.jpg', imgs)
    cli('predict', '--model', run_dir, '--images', imgs, '--out', tmp_path/'p.csv')
    p = pd.read_csv(tmp_path/'p.csv', dtype={'objID': str})
    assert list(p.columns) == ['objID', 'oh_p50_pred', 'oh_p50_tta_std'] and sorted(p.objID) == sorted(ids)
    lo, hi = json.loads((run_dir/'model.json').read_text())['y_range']
    assert p.oh_p50_pred.between(lo[0], hi[0]).all() and (p.oh_p50_tta_std > 0).all()
    catalog.head(3).to_csv(tmp_path/'c.csv', index=False)
    cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'c.csv', '--no-tta', '--out', tmp_path/'q.csv')
    q = pd.read_csv(tmp_path/'q.csv', dtype={'objID': str})
    assert q.objID.tolist() == ids[:3] and (q.oh_p50_tta_std == 0).all()
    merged = p.set_index('objID').loc[ids[:3]]
    # The single pass is the first of the 8 views whose mean and standard deviation (ddof 0) TTA writes, so it lies within
    # sqrt(7) standard deviations of their mean (Samuelson's inequality), to the rounding of the written values
    d = np.abs(merged.oh_p50_pred.to_numpy() - q.oh_p50_pred.to_numpy())
    assert (d <= np.sqrt(7) * merged.oh_p50_tta_std.to_numpy() + 3e-5).all(), (d, merged.oh_p50_tta_std.to_numpy())
    assert d.max() > 1e-4  # TTA averaged views other than the single pass

def test_predict_tta_modes(run_dir, sample, catalog, tmp_path):
    "--tta paper (Wu & Boada's 1 + 4 random views) is reproducible for a --tta-seed and named in the FITS descriptions; a bad name is a one-line error"
    from astropy.io import fits
    catalog.head(4).to_csv(tmp_path/'cat.csv', index=False)
    run = lambda out, *a, **kw: cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'cat.csv', '--out', tmp_path/out, *a, **kw)
    for out, a in (('a.csv', ('--tta', 'paper', '--tta-seed', 1)), ('b.csv', ('--tta', 'paper', '--tta-seed', 1)),
                   ('c.csv', ('--tta', 'paper', '--tta-seed', 2)), ('d.csv', ()), ('p.fits', ('--tta', 'paper'))): run(out, *a)
    a, b, c, d = (pd.read_csv(tmp_path/f) for f in ('a.csv', 'b.csv', 'c.csv', 'd.csv'))
    assert a.equals(b) and not a.oh_p50_pred.equals(c.oh_p50_pred) and not a.oh_p50_pred.equals(d.oh_p50_pred) and (a.oh_p50_tta_std > 0).all()
    h = fits.getheader(tmp_path/'p.fits', 1)
    assert '5 views as Wu & Boada' in h['TCOMM2'] and '4 random' in h['TCOMM3']
    r = run('e.csv', '--tta', 'flips', check=False)
    assert r.returncode == 1 and 'tta must be one of dihedral, rotate, paper, none' in r.stderr and 'Traceback' not in r.stderr

def test_predict_formats(run_dir, sample, catalog, tmp_path):
    "An ECSV catalogue in; CSV, ECSV and FITS out, the same numbers, with units and descriptions in ECSV and FITS"
    from astropy.table import Table
    from astropy.io import fits
    Table.from_pandas(catalog.head(5)).write(tmp_path/'c.ecsv')
    for f in ('p.csv', 'p.ecsv', 'p.fits'):
        cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'c.ecsv', '--out', tmp_path/f)
    csv = pd.read_csv(tmp_path/'p.csv', dtype={'objID': str})
    assert csv.objID.tolist() == catalog.objID[:5].tolist()
    for f in ('p.ecsv', 'p.fits'):
        t = Table.read(tmp_path/f, format='ascii.ecsv' if f.endswith('ecsv') else None)
        assert t.colnames == list(csv.columns) and [str(v) for v in t['objID']] == csv.objID.tolist()
        np.testing.assert_array_equal(np.asarray(t['oh_p50_pred'], float), csv.oh_p50_pred.to_numpy())
    assert str(Table.read(tmp_path/'p.ecsv')['oh_p50_pred'].unit) == 'dex'
    h = fits.getheader(tmp_path/'p.fits', 1)
    assert 'TUNIT2' not in h and 'oxygen abundance' in h['TCOMM2'] and h['TCOMM2'].endswith('[dex]') # FITS readers do not parse dex
    r = cli('predict', '--model', run_dir, '--images', sample/'images', '--out', tmp_path/'p.parquet', check=False)
    assert r.returncode == 1 and '.csv, .ecsv or .fits' in r.stderr and 'Traceback' not in r.stderr
    catalog.head(5).to_csv(tmp_path/'c.csv', index=False) # a CSV catalogue of 19-digit SDSS objIDs: FITS predictions join back to it
    cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'c.csv', '--out', tmp_path/'q.fits')
    from astropy.table import join
    q, c = Table.read(tmp_path/'q.fits'), Table.read(tmp_path/'c.csv')
    assert q['objID'].dtype.kind == 'i' and len(join(c, q, keys='objID')) == 5

def test_evaluate(run_dir, sample, small_catalog, tmp_path):
    r = cli('evaluate', '--model', run_dir, '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'rep', '--split', 'test')
    doc = load_metrics(tmp_path/'rep')
    assert doc['command'] == 'evaluate' and list(doc['metrics']) == ['test']
    m = doc['metrics']['test']['oh_p50']
    train_m = load_metrics(run_dir)['metrics']['test']['oh_p50']
    assert m['n'] == 12 and abs(m['rmse'] - train_m['rmse']) < 1e-4
    assert f"RMSE {m['rmse']:.4f}" in r.stdout
    pr = pd.read_csv(tmp_path/'rep'/'predictions.csv')
    assert len(pr) == 12 and {'oh_p50', 'oh_p50_pred', 'oh_p50_tta_std'} <= set(pr.columns)

def test_help_lists_every_option():
    r = cli('--help')
    for c in ('train', 'predict', 'evaluate', 'simulate', 'demo', 'download-images', 'download-catalog', 'baselines', 'resolution'): assert c in r.stdout
    h = cli('train', '--help').stdout
    for o in ('--catalog', '--images', '--out', '--target', '--recipe', '--arch', '--size', '--bs', '--epochs', '--lr',
              '--pretrained', '--seed'): assert o in h
    h = cli('predict', '--help').stdout
    for o in ('--no-tta', '--tta', '--tta-seed'): assert o in h

def test_bad_arguments_exit_nonzero_without_traceback(tmp_path, sample):
    for args in (['train', '--catalog', tmp_path/'none.csv', '--images', sample/'images', '--out', tmp_path/'r'],
                 ['train', '--catalog', 'x.csv', '--images', sample/'images', '--out', tmp_path/'r', '--recipe', 'nope'],
                 ['train', '--catalog', 'x.csv', '--out', tmp_path/'r'],
                 ['train', '--catalog', 'x.csv', '--images', sample/'images', '--out', tmp_path/'r', '--size', 'big'],
                 ['predict', '--model', tmp_path, '--images', sample/'images', '--out', tmp_path/'p.csv'],
                 ['frobnicate']):
        r = cli(*args, check=False)
        assert r.returncode != 0, args
        assert 'Traceback' not in r.stderr, (args, r.stderr)
        assert 'error' in r.stderr.lower(), (args, r.stderr)

def test_pretrained_weights_from_torch_cache(sample, small_catalog, catalog, tmp_path, monkeypatch):
    "With weights in the torch cache, `--pretrained auto` uses them (ImageNet normalisation) without any download"
    import os, torch, torchvision
    from pathlib import Path
    w = torchvision.models.get_model_weights('resnet18').DEFAULT
    ckpt = tmp_path/'torch'/'hub'/'checkpoints'; ckpt.mkdir(parents=True)
    ref = torchvision.models.resnet18(weights=None)
    torch.save(ref.state_dict(), ckpt/Path(w.url).name)
    env = dict(os.environ, TORCH_HOME=str(tmp_path/'torch'))
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'r', '--recipe', 'tiny', env=env)
    assert 'initialising resnet18 from ImageNet weights' in r.stdout
    meta = json.loads((tmp_path/'r'/'model.json').read_text())
    assert meta['normalisation'] == 'imagenet' and meta['pretrained'].endswith(Path(w.url).name)
    assert meta['stats'][0] == [0.485, 0.456, 0.406]
    # and the learner `train` builds starts from the file's weights: its body holds them, tensor for tensor
    from metallicity_cnn.learner import pretrained_weights, galaxy_learner
    from metallicity_cnn.data import galaxy_dls
    monkeypatch.setenv('TORCH_HOME', str(tmp_path/'torch'))
    assert pretrained_weights('resnet18', 'auto') == ckpt/Path(w.url).name
    dls = galaxy_dls(catalog.head(12), sample/'images', np.array(['train']*8 + ['valid']*4), size=32, bs=4)
    body = galaxy_learner(dls, 'resnet18', pretrained_weights('resnet18', 'auto'), bf16=False).model[0].state_dict()
    ref_body = torch.nn.Sequential(*list(ref.children())[:-2]).state_dict()  # conv1 ... layer4, as fastai cuts it
    assert list(body) == list(ref_body)
    assert all(torch.equal(body[k], ref_body[k]) for k in body)
    assert not torch.equal(galaxy_learner(dls, 'resnet18', bf16=False).model[0].state_dict()['0.weight'], ref_body['0.weight'])

def test_no_torch_jit_warning():
    "The FutureWarning torch gives when fastai's import uses `torch.jit.script` is not shown to command users"
    r = cli('--version', fresh=True) # a new process: the warning comes with fastai's first import
    assert 'torch.jit.script' not in r.stderr, r.stderr
