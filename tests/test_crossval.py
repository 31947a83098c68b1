"The `crossval` command on real SDSS galaxies: complete, disjoint folds, and a killed run that resumes."
import json, os, shutil, signal, subprocess, time
import pandas as pd
from conftest import cli
from metallicity_cnn.core import load_metrics

def _cv(catalog, sample, out, *extra):
    return ['crossval', '--catalog', catalog, '--images', sample/'images', '--out', out, '--folds', 3, '--recipe', 'tiny', *extra]

def test_crossval_resumes_after_kill(catalog, sample, tmp_path):
    cat = tmp_path/'c.csv'; catalog.head(36).to_csv(cat, index=False)
    out = tmp_path/'cv'
    exe = shutil.which('metallicity-cnn')
    p = subprocess.Popen([exe, *map(str, _cv(cat, sample, out))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    t0 = time.time()
    while not (out/'fold0'/'oof.csv').exists():  # kill it once the first fold is done, mid-way through the second
        assert p.poll() is None and time.time() - t0 < 600, 'crossval ended or took too long before its first fold was done'
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (out/'oof.csv').exists() and not (out/'fold2'/'oof.csv').exists()
    done0 = (out/'fold0'/'model.pt').stat().st_mtime_ns
    r = cli(*_cv(cat, sample, out))
    assert 'fold0 is a finished run made with the same settings' in r.stdout and 'out-of-fold RMSE' in r.stdout
    assert (out/'fold0'/'model.pt').stat().st_mtime_ns == done0  # the finished fold was not trained again
    oof = pd.read_csv(out/'oof.csv', dtype={'objID': str})
    assert sorted(oof.objID) == sorted(catalog.objID.head(36)) and sorted(oof.fold.value_counts()) == [12, 12, 12]
    m = load_metrics(out)
    assert m['command'] == 'crossval' and m['metrics']['oof']['oh_p50']['n'] == 36 and sorted(m['folds']) == ['0', '1', '2']
    # the run is a model: its 3 fold networks predict new galaxies as an ensemble ...
    new = tmp_path/'new.csv'; catalog.iloc[36:46].to_csv(new, index=False)
    cli('predict', '--model', out, '--images', sample/'images', '--catalog', new, '--out', tmp_path/'p.csv')
    p = pd.read_csv(tmp_path/'p.csv', dtype={'objID': str})
    assert list(p.columns) == ['objID', 'oh_p50_pred', 'oh_p50_tta_std', 'oh_p50_member_std', 'oh_p50_err'] and len(p) == 10
    k = json.loads((out/'model.json').read_text())['err_scale'][0] # one fold network's error, fitted out of fold
    assert (p.oh_p50_member_std > 0).all() and (p.oh_p50_err <= k + 1e-6).all() and (p.oh_p50_err >= k / 3**0.5 - 1e-6).all() # the mean of 3 is no worse than one
    # ... and evaluate draws its report from the out-of-fold predictions
    cli('evaluate', '--model', out, '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'rep', '--split', 'oof', '--no-figures')
    rep = load_metrics(tmp_path/'rep')
    assert rep['n'] == 36 and abs(rep['metrics']['oof']['oh_p50']['rmse'] - m['metrics']['oof']['oh_p50']['rmse']) < 1e-4
    # ... and the baselines run fold by fold: each method trained on a fold's training galaxies, tested on its held-out ones
    cli('baselines', '--model', out, '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'bl', '--no-rband', '--features', 'image')
    bl = json.loads((tmp_path/'bl'/'baselines.json').read_text())
    assert bl['folds'] == 3 and bl['n_test'] == 36 and len(bl['n_train']) == 3
    assert abs(bl['metrics']['oh_p50']['cnn_gri']['rmse'] - m['metrics']['oof']['oh_p50']['rmse']) < 1e-4

def test_crossval_bad_folds(catalog, sample, tmp_path):
    cat = tmp_path/'c.csv'
    catalog.head(8).assign(fold=[0, 0, 2, 2, 0, 2, 0, 2]).to_csv(cat, index=False)
    r = cli(*_cv(cat, sample, tmp_path/'cv'), check=False)
    assert r.returncode == 1 and 'no galaxies in fold [1]' in r.stderr and 'Traceback' not in r.stderr
    catalog.head(2).to_csv(cat, index=False)
    r = cli(*_cv(cat, sample, tmp_path/'cv2'), check=False)
    assert r.returncode == 1 and '3 folds need at least 3 galaxies; the catalogue has 2' in r.stderr
