"""Bad inputs a stranger gives, each answered in one line (exit status 1, no traceback), before the work where it can be."""
import json, shutil
import pandas as pd, pytest
from PIL import Image
from conftest import cli

def one_line_error(r, *needles):
    "The command failed with a one-line message containing `needles`"
    assert r.returncode == 1, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    err = r.stderr.strip().splitlines()
    assert 'Traceback' not in r.stderr and err and all(n in err[-1] for n in needles), r.stderr[-2000:]

def test_batch_larger_than_the_training_set(small_catalog, sample, tmp_path):
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'run', '--recipe', 'tiny', '--bs', 64)
    assert 'using batches of 36' in r.stderr
    assert json.loads((tmp_path/'run'/'model.json').read_text())['recipe']['bs'] == 36
    pd.read_csv(small_catalog).head(2).to_csv(tmp_path/'cat2.csv', index=False)
    one_line_error(cli('train', '--catalog', tmp_path/'cat2.csv', '--images', sample/'images', '--out', tmp_path/'run2', '--recipe', 'tiny', check=False),
                   'at least 2 are needed')

def test_sizes_memory_cannot_hold(small_catalog, sample, tmp_path):
    one_line_error(cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'run', '--recipe', 'tiny', '--size', 100000, check=False),
                   'GiB of memory', 'choose a smaller size')
    one_line_error(cli('simulate', '--n', 5, '--size', 20000, '--out', tmp_path/'sim', check=False), 'GiB of memory')
    assert not (tmp_path/'run').exists() and not list(tmp_path.glob('sim*'))

def test_grayscale_images_excluded_and_counted(small_catalog, sample, run_dir, tmp_path):
    imgs = tmp_path/'imgs'; shutil.copytree(sample/'images', imgs)
    cat = pd.read_csv(small_catalog, dtype={'objID': str})
    gray = cat.objID[0]
    Image.open(imgs/f'{gray}.jpg').convert('L').save(imgs/f'{gray}.jpg')
    r = cli('train', '--catalog', small_catalog, '--images', imgs, '--out', tmp_path/'run', '--recipe', 'tiny')
    assert f'1 rows excluded: image grayscale (one band, not gri) ({gray})' in r.stdout
    r = cli('predict', '--model', run_dir, '--images', imgs, '--catalog', small_catalog, '--out', tmp_path/'p.csv')
    assert 'one-band (L) image' in r.stderr and len(pd.read_csv(tmp_path/'p.csv')) == 59

@pytest.mark.parametrize('change,needle', [
    (dict(arch='resnet34'), 'does not match'),
    (dict(size='big'), 'size must be a positive number of pixels'),
    (dict(targets=[]), 'targets must be a non-empty list'),
    (dict(arch='resnet9000'), "unknown architecture 'resnet9000'"),
])
def test_model_json_that_does_not_fit(run_dir, sample, small_catalog, tmp_path, change, needle):
    bad = tmp_path/'bad'; shutil.copytree(run_dir, bad)
    meta = json.loads((bad/'model.json').read_text()) | change
    (bad/'model.json').write_text(json.dumps(meta))
    one_line_error(cli('predict', '--model', bad, '--images', sample/'images', '--catalog', small_catalog, '--out', tmp_path/'p.csv', check=False), needle)

def test_predict_options(run_dir, sample, small_catalog, tmp_path):
    for bs in (0, -1):
        one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--out', tmp_path/'p.csv', '--bs', bs, check=False), 'batch size')
    assert not list(tmp_path.iterdir()) # no partial files
    one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--out', tmp_path/'p.csv', '--device', 'cuda', check=False), 'no CUDA GPU')
    (tmp_path/'adir').mkdir()
    one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--out', tmp_path/'adir', check=False), 'cannot tell the format')
    (tmp_path/'adir.csv').mkdir()
    one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--out', tmp_path/'adir.csv', check=False), 'existing directory')

def test_catalogues_a_stranger_writes(run_dir, sample, small_catalog, tmp_path):
    cat = pd.read_csv(small_catalog, dtype={'objID': str})
    for suffix in ('.tsv', '.dat', '.jpg'):
        cat.to_csv(tmp_path/f'c{suffix}', sep='\t', index=False)
        one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/f'c{suffix}', '--out', tmp_path/'p.csv', check=False),
                       'name it .csv')
    (tmp_path/'comments.csv').write_text('# SDSS DR14, objID and 12+log(O/H)\n# second comment\n' + cat.to_csv(index=False))
    cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'comments.csv', '--out', tmp_path/'pc.csv')
    assert len(pd.read_csv(tmp_path/'pc.csv')) == 60
    cat.assign(objID=cat.objID.astype(float)).to_csv(tmp_path/'floats.csv', index=False)
    for cmd in (('predict', '--model', run_dir, '--out', tmp_path/'pf.csv'), ('pack', '--out', tmp_path/'store')):
        one_line_error(cli(*cmd, '--images', sample/'images', '--catalog', tmp_path/'floats.csv', check=False), 'floating-point numbers')
    cat.assign(objID=cat.objID.where(cat.index != 3, '')).to_csv(tmp_path/'empty.csv', index=False)
    one_line_error(cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'empty.csv', '--out', tmp_path/'pe.csv', check=False),
                   '1 rows have no objID')
    one_line_error(cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'r', '--target', 'oh_p50', 'oh_p50', check=False),
                   'named more than once')

def test_negated_flags_read_forwards():
    r = cli('evaluate', '--help')
    line = ' '.join(r.stdout.split('\n  --no-tta', 1)[1].split('\n  --', 1)[0].split())
    assert 'this flag turns it off' in line and 'default: True' not in line, line

def test_images_of_another_scale_warned(run_dir, sample, small_catalog, tmp_path):
    "model.json says what images the model expects; predict warns (once) when the cutouts are of another native side"
    meta = json.loads((run_dir/'model.json').read_text())
    assert meta['input']['native_size'] == 128 and meta['input']['size'] == 32 and 'petroR90_r' in meta['input']['scale']
    imgs = tmp_path/'small'; imgs.mkdir()
    for i in pd.read_csv(small_catalog, dtype={'objID': str}).objID[:40]: Image.open(sample/'images'/f'{i}.jpg').resize((64, 64)).save(imgs/f'{i}.jpg')
    r = cli('predict', '--model', run_dir, '--images', imgs, '--out', tmp_path/'p.csv', '--bs', 8)
    assert r.stderr.count('the images are 64 px cutouts') == 1 and 'trained on 128 px ones' in r.stderr
    r = cli('predict', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', tmp_path/'q.csv')
    assert 'px cutouts' not in r.stderr

def test_evaluate_never_scores_training_galaxies_silently(run_dir, sample, small_catalog, tmp_path):
    r = cli('evaluate', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', tmp_path/'rep', '--no-figures')
    m = json.loads((tmp_path/'rep'/'metrics.json').read_text())
    assert 'scoring its test galaxies' in r.stdout and m['split'] == 'test' and list(m['metrics']) == ['test'] and m['n'] == 12
    cli('evaluate', '--model', run_dir, '--images', sample/'images', '--catalog', small_catalog, '--out', tmp_path/'all', '--no-figures', '--split', 'all')
    m = json.loads((tmp_path/'all'/'metrics.json').read_text())
    assert m['split'] == 'all' and m['n'] == 60

def test_nothing_done_is_an_error(run_dir, small_catalog, tmp_path):
    "A command whose every image is missing ends non-zero, with no empty output left"
    empty = tmp_path/'none'; empty.mkdir()
    one_line_error(cli('pack', '--catalog', small_catalog, '--images', empty, '--out', tmp_path/'store', check=False), 'none of the 60 images could be packed')
    one_line_error(cli('predict', '--model', run_dir, '--images', empty, '--catalog', small_catalog, '--out', tmp_path/'p.csv', check=False), 'none of the 60 galaxies')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['none']

def test_evaluate_names_the_models_targets(run_dir, sample, small_catalog, tmp_path):
    pd.read_csv(small_catalog).rename(columns={'oh_p50': 'z'}).to_csv(tmp_path/'c.csv', index=False)
    r = cli('evaluate', '--model', run_dir, '--images', sample/'images', '--catalog', tmp_path/'c.csv', '--out', tmp_path/'rep', check=False)
    one_line_error(r, "no column 'oh_p50'", "the model predicts ['oh_p50']"); assert '--target' not in r.stderr

def test_a_write_the_disk_refuses(small_catalog, sample, tmp_path):
    "A write the operating system refuses partway (here a file-size limit, which fails as a full disk does): one line naming the OS's reason, nothing left behind"
    import resource
    def limit(): resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20)) # 4 MiB: the catalogue's split fits, the 45 MiB of weights do not
    r = cli('train', '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path/'run', '--recipe', 'tiny',
            check=False, preexec_fn=limit, cwd=tmp_path)
    one_line_error(r, 'run was not written', 'could not write model.pt: File too large', 'MiB free on its disk')
    assert 'enforce fail' not in r.stderr and sorted(p.name for p in tmp_path.iterdir()) == []

def test_baselines_on_too_few_galaxies_warn(run_dir, sample, small_catalog, tmp_path):
    "Baselines scored on a subset catalogue holding 3 of the run's test galaxies: a comparison on n = 3 says so"
    split = pd.read_csv(run_dir/'split.csv', dtype={'objID': str})
    cat = pd.read_csv(small_catalog, dtype={'objID': str})
    keep = set(split.objID[split.split != 'test']) | set(split.objID[split.split == 'test'][:3])
    cat[cat.objID.isin(keep)].to_csv(tmp_path/'sub.csv', index=False)
    r = cli('baselines', '--model', run_dir, '--catalog', tmp_path/'sub.csv', '--images', sample/'images', '--out', tmp_path/'bl',
            '--no-rband', '--features', 'image')
    assert 'compared on 3 test galaxies, too few to tell them apart' in r.stderr, r.stderr[-1000:]
