"Fine-tuning from a trained run: the body always, the head when the targets match, said in the log and in model.json."
import json
import torch
from conftest import cli
from metallicity_cnn.data import load_catalog, make_split, galaxy_dls
from metallicity_cnn.learner import galaxy_learner
from metallicity_cnn.model import load_model
from metallicity_cnn.train import load_trained

def test_load_trained_body_and_head(run_dir, sample, catalog):
    net, meta = load_model(run_dir)
    df, _ = load_catalog(catalog, sample/'images')
    dls = galaxy_dls(df, sample/'images', make_split(df, 0), size=32, bs=16, stats=meta['stats'])
    learn = galaxy_learner(dls, 'resnet18')
    assert load_trained(learn, run_dir) == 'body and head'
    got, want = learn.model.state_dict(), net.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want if not k.endswith('logvar_shift'))
    dls2 = galaxy_dls(df.assign(other=df.oh_p50), sample/'images', make_split(df, 0), targets=['other'], size=32, bs=16, stats=meta['stats'])
    learn2 = galaxy_learner(dls2, 'resnet18')
    assert load_trained(learn2, run_dir).startswith('body (its head predicts')
    got = learn2.model.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want if k.startswith('0.')) and not torch.equal(got['1.8.weight'], want['1.8.weight'])

def test_train_from_a_run(run_dir, small_catalog, sample, tmp_path):
    cat = small_catalog
    r = cli('train', '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'ft', '--recipe', 'tiny', '--pretrained', run_dir/'model.pt')
    assert f'initialising resnet18 from the trained run {run_dir}: body and head' in r.stdout and 'Traceback' not in r.stderr
    meta = json.loads((tmp_path/'ft'/'model.json').read_text())
    assert meta['weights']['source'] == 'run' and meta['weights']['loaded'] == 'body and head' and meta['normalisation'] == 'run'
    assert meta['stats'] == json.loads((run_dir/'model.json').read_text())['stats']
    r = cli('train', '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'ft2', '--recipe', 'tiny', '--pretrained', run_dir, '--arch', 'resnet34', check=False)
    assert r.returncode == 1 and 'differs from the architecture' in r.stderr

def test_ensemble_is_not_a_starting_point(run_dir, small_catalog, sample, tmp_path):
    cat = small_catalog
    cli('train', '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'ens', '--recipe', 'tiny', '--ensemble', 2)
    r = cli('train', '--catalog', cat, '--images', sample/'images', '--out', tmp_path/'ft', '--recipe', 'tiny', '--pretrained', tmp_path/'ens', check=False)
    assert r.returncode == 1 and 'is an ensemble of 2 networks' in r.stderr and 'member0' in r.stderr
