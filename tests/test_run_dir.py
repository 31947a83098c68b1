"""What a run directory guarantees under misuse: replaced only when asked, written as one unit, one writer at a time,
resumed only with the same settings, never written over an input, its output checked before the work."""
import json, shutil
import pandas as pd, pytest
from conftest import cli
from metallicity_cnn.core import output_lock, ResumableCSV, load_json
from metallicity_cnn.model import GalaxyModel
from metallicity_cnn.predict import predict, _settings, output_columns
import metallicity_cnn.model as model_mod

def train(cat, sample, out, *args, check=True):
    return cli('train', '--catalog', cat, '--images', sample/'images', '--out', out, '--recipe', 'tiny', *args, check=check)

def test_replaced_only_when_asked(small_catalog, sample, run_dir, tmp_path):
    out = tmp_path/'run'; shutil.copytree(run_dir, out)
    before = (out/'model.pt').read_bytes()
    r = train(small_catalog, sample, out) # the same command: done already, nothing retrained
    assert 'nothing to do' in r.stdout and (out/'model.pt').read_bytes() == before
    r = train(small_catalog, sample, out, '--seed', '5', check=False)
    assert r.returncode == 1 and 'seed: 0 -> 5' in r.stderr and '--overwrite' in r.stderr and 'Traceback' not in r.stderr
    assert (out/'model.pt').read_bytes() == before and load_json(out/'model.json')['seed'] == 0
    train(small_catalog, sample, out, '--seed', '5', '--overwrite')
    assert load_json(out/'model.json')['seed'] == 5 and load_json(out/'model.json')['settings']['seed'] == 5

def test_resumed_only_with_the_recipe_as_trained(run_dir, tmp_path):
    "A finished run is reused only when the recipe it would train now is the one it was trained with (a changed default is not resumed); runs of earlier versions, which recorded the recipe's name and overrides, still resume"
    out = tmp_path/'run'; shutil.copytree(run_dir, out)
    meta = load_json(out/'model.json'); now = meta['settings']
    assert now['recipe'] == meta['recipe'] and GalaxyModel.finished(out, now)
    changed = now | {'recipe': now['recipe'] | {'augment': 'rotate'}}
    with pytest.raises(FileExistsError, match="recipe.augment: 'dihedral' -> 'rotate'"): GalaxyModel.finished(out, changed)
    (out/'model.json').write_text(json.dumps(meta | {'settings': now | {'recipe': 'tiny', 'overrides': {}}})) # as earlier versions wrote it
    assert GalaxyModel.finished(out, now)
    with pytest.raises(FileExistsError, match="recipe.augment: 'dihedral' -> 'rotate'"): GalaxyModel.finished(out, changed)

def test_written_as_one_unit(run_dir, tmp_path, monkeypatch):
    "A failure part way through writing a run (here in metrics.json, after the weights) leaves the old run whole: no new weights beside old metrics"
    out = tmp_path/'run'; shutil.copytree(run_dir, out)
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    m = GalaxyModel.load(out)
    m.nets[0][1][-2].weight.data += 1 # a different network
    def boom(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(model_mod, 'save_metrics', boom)
    with pytest.raises(KeyboardInterrupt): m.save(out, metrics=load_json(out/'metrics.json'))
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before and GalaxyModel.finished(out, m.meta['settings'])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['run'] # no partial directory left
    monkeypatch.undo(); m.save(out, metrics=load_json(out/'metrics.json'))
    assert (out/'model.pt').read_bytes() != before['model.pt'] and sorted(p.name for p in tmp_path.iterdir()) == ['run']

def test_one_writer_at_a_time(small_catalog, sample, run_dir, tmp_path):
    out = tmp_path/'run'
    with output_lock(out):
        r = train(small_catalog, sample, out, check=False)
    assert r.returncode == 1 and 'is being written by another process (pid' in r.stderr
    assert not out.exists()
    preds = tmp_path/'p.csv'
    with output_lock(preds):
        r = cli('predict', '--model', run_dir, '--images', sample/'images', '--out', preds, check=False)
    assert r.returncode == 1 and 'being written by another process' in r.stderr

def test_resume_only_the_same(small_catalog, sample, run_dir, tmp_path):
    "A partial prediction file of another model (or other options) is refused, and finished with the same"
    m = GalaxyModel.load(run_dir)
    out = tmp_path/'p.csv'
    other = dict(_settings(m, str(small_catalog), sample/'images', 'none', 0, False))
    w = ResumableCSV(out, ['objID'] + output_columns(m), settings=other); w.close(False)
    with pytest.raises(ValueError, match="other settings .*tta: 'none' -> 'dihedral'"):
        predict(run_dir, sample/'images', str(small_catalog), out=out, progress=False)
    r = cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', out, check=False)
    assert r.returncode == 1 and 'other settings' in r.stderr
    cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', out, '--overwrite')
    assert len(pd.read_csv(out)) == 60

def test_ensemble_members_resumed_only_with_same_settings(small_catalog, sample, tmp_path):
    out = tmp_path/'ens'
    train(small_catalog, sample, out, '--ensemble', '2')
    r = train(small_catalog, sample, out, '--ensemble', '2', '--seed', '3', check=False)
    assert r.returncode == 1 and 'seed: 0 -> 3' in r.stderr
    assert load_json(out/'model.json')['seeds'] == [0, 1] and load_json(out/'member0'/'model.json')['seed'] == 0

def test_never_over_inputs(small_catalog, sample, run_dir, tmp_path):
    cat = tmp_path/'cat.csv'; shutil.copy(small_catalog, cat)
    r = cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', cat, '--out', cat, check=False)
    assert r.returncode == 1 and 'also an input' in r.stderr and cat.read_bytes() == small_catalog.read_bytes()
    metrics = (run_dir/'metrics.json').read_bytes()
    r = cli('evaluate', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', run_dir, check=False)
    assert r.returncode == 1 and (run_dir/'metrics.json').read_bytes() == metrics
    r = cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', run_dir/'split.csv', check=False)
    assert r.returncode == 1 and 'a file of the model directory' in r.stderr

def test_output_checked_before_the_work(small_catalog, sample, tmp_path):
    f = tmp_path/'afile'; f.write_text('x')
    r = train(small_catalog, sample, f, check=False)
    assert r.returncode == 1 and 'is an existing file' in r.stderr and 'epoch' not in r.stdout and 'catalog:' not in r.stdout
    r = train(small_catalog, sample, f/'run', check=False)
    assert r.returncode == 1 and 'is a file' in r.stderr
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', '.', '--recipe', 'tiny', check=False, cwd=tmp_path)
    assert r.returncode == 1 and 'is the working directory' in r.stderr and 'catalog:' not in r.stdout
