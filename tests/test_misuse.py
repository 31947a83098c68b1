"""Bad inputs a stranger gives, each answered in one line (exit status 1, no traceback), before the work where it can be."""
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from conftest import cli

def one_line_error(r, *needles):
    "The command failed with a one-line message containing `needles`"
    assert r.returncode == 1, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    err = r.stderr.strip().splitlines()
    assert 'Traceback' not in r.stderr and err and all(n in err[-1] for n in needles), r.stderr[-2000:]

def test_batch_larger_than_the_training_set(cat70, sample, tmp_path):
    r = cli('train', '--catalog', cat70, '--images', sample/'images', '--out', tmp_path/'run', '--recipe', 'tiny', '--bs', 64)
    assert 'using batches of 42' in r.stderr
    assert json.loads((tmp_path/'run'/'model.json').read_text())['recipe']['bs'] == 42
    pd.read_csv(cat70).head(2).to_csv(tmp_path/'cat2.csv', index=False)
    one_line_error(cli('train', '--catalog', tmp_path/'cat2.csv', '--images', sample/'images', '--out', tmp_path/'run2', '--recipe', 'tiny', check=False),
                   'at least 2 are needed')

def test_sizes_memory_cannot_hold(cat70, sample, tmp_path):
    one_line_error(cli('train', '--catalog', cat70, '--images', sample/'images', '--out', tmp_path/'run', '--recipe', 'tiny', '--size', 100000, check=False),
                   'GiB of memory', 'choose a smaller size')
    one_line_error(cli('simulate', '--n', 5, '--size', 20000, '--out', tmp_path/'sim', check=False), 'GiB of memory')
    assert not (tmp_path/'run').exists() and not list(tmp_path.glob('sim*'))

def test_grayscale_images_excluded_and_counted(cat70, sample, run70, tmp_path):
    imgs = tmp_path/'imgs'; shutil.copytree(sample/'images', imgs)
    cat = pd.read_csv(cat70, dtype={'objID': str})
    gray = cat.objID[0]
    Image.open(imgs/f'{gray}.jpg').convert('L').save(imgs/f'{gray}.jpg')
    r = cli('train', '--catalog', cat70, '--images', imgs, '--out', tmp_path/'run', '--recipe', 'tiny')
    assert f'1 rows excluded: image grayscale (one band, not gri) ({gray})' in r.stdout
    r = cli('predict', '--model', run70, '--images', imgs, '--catalog', cat70, '--out', tmp_path/'p.csv')
    assert 'one-band (L) image' in r.stderr and len(pd.read_csv(tmp_path/'p.csv')) == 69

@pytest.mark.parametrize('change,needle', [
    (dict(arch='resnet34'), 'does not match'),
    (dict(size='big'), 'size must be a positive number of pixels'),
    (dict(targets=[]), 'targets must be a non-empty list'),
    (dict(arch='resnet9000'), "unknown architecture 'resnet9000'"),
])
def test_model_json_that_does_not_fit(run70, sample, cat70, tmp_path, change, needle):
    bad = tmp_path/'bad'; shutil.copytree(run70, bad)
    meta = json.loads((bad/'model.json').read_text()) | change
    (bad/'model.json').write_text(json.dumps(meta))
    one_line_error(cli('predict', '--model', bad, '--images', sample/'images', '--catalog', cat70, '--out', tmp_path/'p.csv', check=False), needle)

def test_predict_options(run70, sample, cat70, tmp_path):
    for bs in (0, -1):
        one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--out', tmp_path/'p.csv', '--bs', bs, check=False), 'batch size')
    assert not list(tmp_path.iterdir()) # no partial files
    one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--out', tmp_path/'p.csv', '--device', 'cuda', check=False), 'no CUDA GPU')
    (tmp_path/'adir').mkdir()
    one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--out', tmp_path/'adir', check=False), 'cannot tell the format')
    (tmp_path/'adir.csv').mkdir()
    one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--out', tmp_path/'adir.csv', check=False), 'existing directory')

def test_catalogues_a_stranger_writes(run70, sample, cat70, tmp_path):
    cat = pd.read_csv(cat70, dtype={'objID': str})
    for suffix in ('.tsv', '.dat', '.jpg'):
        cat.to_csv(tmp_path/f'c{suffix}', sep='\t', index=False)
        one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--catalog', tmp_path/f'c{suffix}', '--out', tmp_path/'p.csv', check=False),
                       'name it .csv')
    (tmp_path/'comments.csv').write_text('# SDSS DR14, objID and 12+log(O/H)\n# second comment\n' + cat.to_csv(index=False))
    cli('predict', '--model', run70, '--images', sample/'images', '--catalog', tmp_path/'comments.csv', '--out', tmp_path/'pc.csv')
    assert len(pd.read_csv(tmp_path/'pc.csv')) == 70
    cat.assign(objID=cat.objID.astype(float)).to_csv(tmp_path/'floats.csv', index=False)
    for cmd in (('predict', '--model', run70, '--out', tmp_path/'pf.csv'), ('pack', '--out', tmp_path/'store')):
        one_line_error(cli(*cmd, '--images', sample/'images', '--catalog', tmp_path/'floats.csv', check=False), 'floating-point numbers')
    cat.assign(objID=cat.objID.where(cat.index != 3, '')).to_csv(tmp_path/'empty.csv', index=False)
    one_line_error(cli('predict', '--model', run70, '--images', sample/'images', '--catalog', tmp_path/'empty.csv', '--out', tmp_path/'pe.csv', check=False),
                   '1 rows have no objID')
    one_line_error(cli('train', '--catalog', cat70, '--images', sample/'images', '--out', tmp_path/'r', '--target', 'oh_p50', 'oh_p50', check=False),
                   'named more than once')

def test_negated_flags_read_forwards():
    r = cli('evaluate', '--help')
    line = ' '.join(r.stdout.split('\n  --no-tta', 1)[1].split('\n  --', 1)[0].split())
    assert 'this flag turns it off' in line and 'default: True' not in line, line

def test_images_of_another_scale_warned(run70, sample, cat70, tmp_path):
    "model.json says what images the model expects; predict warns (once) when the cutouts are of another native side"
    meta = json.loads((run70/'model.json').read_text())
    assert meta['input']['native_size'] == 128 and meta['input']['size'] == 32 and 'petroR90_r' in meta['input']['scale']
    imgs = tmp_path/'small'; imgs.mkdir()
    for i in pd.read_csv(cat70, dtype={'objID': str}).objID[:40]: Image.open(sample/'images'/f'{i}.jpg').resize((64, 64)).save(imgs/f'{i}.jpg')
    r = cli('predict', '--model', run70, '--images', imgs, '--out', tmp_path/'p.csv', '--bs', 8)
    assert r.stderr.count('the images are 64 px cutouts') == 1 and 'trained on 128 px ones' in r.stderr
    r = cli('predict', '--model', run70, '--images', sample/'images', '--catalog', cat70, '--out', tmp_path/'q.csv')
    assert 'px cutouts' not in r.stderr

def test_evaluate_never_scores_training_galaxies_silently(run70, sample, cat70, tmp_path):
    r = cli('evaluate', '--model', run70, '--images', sample/'images', '--catalog', cat70, '--out', tmp_path/'rep', '--no-figures')
    m = json.loads((tmp_path/'rep'/'metrics.json').read_text())
    assert 'scoring its test galaxies' in r.stdout and m['split'] == 'test' and list(m['metrics']) == ['test'] and m['n'] == 14
    cli('evaluate', '--model', run70, '--images', sample/'images', '--catalog', cat70, '--out', tmp_path/'all', '--no-figures', '--split', 'all')
    m = json.loads((tmp_path/'all'/'metrics.json').read_text())
    assert m['split'] == 'all' and m['n'] == 70

def test_nothing_done_is_an_error(run70, cat70, tmp_path):
    "A command whose every image is missing ends non-zero, with no empty output left"
    empty = tmp_path/'none'; empty.mkdir()
    one_line_error(cli('pack', '--catalog', cat70, '--images', empty, '--out', tmp_path/'store', check=False), 'none of the 70 images could be packed')
    one_line_error(cli('predict', '--model', run70, '--images', empty, '--catalog', cat70, '--out', tmp_path/'p.csv', check=False), 'none of the 70 galaxies')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['none']

def test_evaluate_names_the_models_targets(run70, sample, cat70, tmp_path):
    pd.read_csv(cat70).rename(columns={'oh_p50': 'z'}).to_csv(tmp_path/'c.csv', index=False)
    r = cli('evaluate', '--model', run70, '--images', sample/'images', '--catalog', tmp_path/'c.csv', '--out', tmp_path/'rep', check=False)
    one_line_error(r, "no column 'oh_p50'", "the model predicts ['oh_p50']"); assert '--target' not in r.stderr
