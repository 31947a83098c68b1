"""The stranger's misuse cases (issue #26), rerun: each bad input or fault from the issue, what it did then, and what the
command line does now (exit status and the last line it printed).

    python bench/misuse.py                    # writes bench/out/misuse/misuse.json and prints the table

Setup as in the issue: the first 70 galaxies of the 400-galaxy sample (`head -71 catalog.csv`), `--recipe tiny`. Each
case runs the installed `metallicity-cnn` in a fresh process, as a user's shell would.
"""
import json, os, resource, shutil, stat, subprocess, sys, time, warnings
from pathlib import Path
import pandas as pd
from PIL import Image
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json

def _run(*args, preexec_fn=None, cwd=None) -> dict:
    "`metallicity-cnn args` in a new process: exit status, seconds and the last line of stderr (else stdout)"
    t0 = time.time()
    r = subprocess.run([shutil.which('metallicity-cnn'), *map(str, args)], capture_output=True, text=True, preexec_fn=preexec_fn, cwd=cwd)
    last = [l for l in (r.stderr.strip() or r.stdout.strip()).splitlines() if l.strip() and not l.startswith(' ')] # not a warning's source line
    tb = 'Traceback' in r.stderr
    return dict(code=r.returncode, s=round(time.time() - t0, 1), last=('TRACEBACK ' if tb else '') + (last[-1][:160] if last else ''))

def _py(code:str, cwd) -> dict:
    "A Python snippet in a new interpreter, as a notebook user would run it: exit status and its last line of output"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=cwd)
    out = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return dict(code=r.returncode, s=None, last=out[-1][:160] if out else '')

def _cases(w:Path, s:Path, cat:Path, run:Path):
    "(case, what the issue found, result now)"
    I = s/'images'
    pd.read_csv(cat).head(2).to_csv(w/'cat2.csv', index=False); pd.read_csv(cat).head(20).to_csv(w/'cat20.csv', index=False)
    df = pd.read_csv(cat, dtype={'objID': str})
    gray = w/'gray'; shutil.copytree(I, gray, symlinks=False, ignore=lambda d, fs: [f for f in fs if f[:-4] not in set(df.objID)])
    Image.open(gray/f'{df.objID[0]}.jpg').convert('L').save(gray/f'{df.objID[0]}.jpg')
    df.to_csv(w/'c.tsv', sep='\t', index=False)
    df.assign(objID=df.objID.astype(float)).to_csv(w/'floats.csv', index=False)
    df.assign(objID=df.objID.where(df.index != 3, '')).to_csv(w/'empty.csv', index=False)
    (w/'comments.csv').write_text('# SDSS DR14\n' + df.to_csv(index=False))
    (w/'adir.csv').mkdir(exist_ok=True)
    def bad_json(change):
        d = w/f"bad-{'-'.join(change)}"; shutil.copytree(run, d, dirs_exist_ok=True)
        (d/'model.json').write_text(json.dumps(json.loads((run/'model.json').read_text()) | change)); return d
    def fsize(): resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))
    pred = lambda *a, out='p.csv': _run('predict', '--model', run, '--images', I, '--catalog', cat, '--out', w/out, *a)
    mode = lambda p: oct(stat.S_IMODE(p.stat().st_mode))
    yield ('train --pretrained run/model.pt', "'initialising from ImageNet weights', then an 8 KB RuntimeError traceback",
           _run('train', '--catalog', cat, '--images', I, '--out', w/'ft', '--recipe', 'tiny', '--pretrained', run/'model.pt'))
    yield ('file modes under umask 022 (model.pt, metrics.json)', '-rw------- (0o600)', dict(code=None, s=None, last=f"{mode(run/'model.pt')}, {mode(run/'metrics.json')}"))
    yield ('train --bs 64 on 70 rows', 'exit 0, untrained model (train_loss nan)', _run('train', '--catalog', cat, '--images', I, '--out', w/'bs64', '--recipe', 'tiny', '--bs', 64))
    yield ('train on 2 rows', 'exit 0, untrained model', _run('train', '--catalog', w/'cat2.csv', '--images', I, '--out', w/'r2', '--recipe', 'tiny'))
    yield ('crossval --folds 2 on 20 rows', 'exit 0, untrained models', _run('crossval', '--catalog', w/'cat20.csv', '--images', I, '--out', w/'cv2', '--recipe', 'tiny', '--folds', 2))
    yield ('train --size 100000', 'killed by the kernel (~20 GB), .partial left', _run('train', '--catalog', cat, '--images', I, '--out', w/'big', '--recipe', 'tiny', '--size', 100000))
    yield ('simulate --size 20000', 'killed by the kernel', _run('simulate', '--n', 5, '--size', 20000, '--out', w/'sim'))
    yield ('a grayscale JPEG (predict)', 'used as g = r = i, up to 0.11 dex off, no word', _run('predict', '--model', run, '--images', gray, '--catalog', cat, '--out', w/'pg.csv'))
    yield ("model.json arch does not match model.pt", 'traceback', _run('predict', '--model', bad_json({'arch': 'resnet34'}), '--images', I, '--out', w/'p1.csv'))
    yield ("model.json size: 'big'", 'traceback', _run('predict', '--model', bad_json({'size': 'big'}), '--images', I, '--out', w/'p2.csv'))
    yield ('model.json targets: []', 'traceback', _run('predict', '--model', bad_json({'targets': []}), '--images', I, '--out', w/'p3.csv'))
    yield ('predict --device cuda without a GPU', 'traceback', pred('--device', 'cuda', out='p4.csv'))
    yield ('predict --bs 0', 'traceback, partial files left', pred('--bs', 0, out='p5.csv'))
    yield ('predict --bs -1', 'traceback, partial files left', pred('--bs', -1, out='p6.csv'))
    yield ('a write the disk refuses (file-size limit)', "traceback ending 'enforce fail ... unexpected pos'",
           _run('train', '--catalog', cat, '--images', I, '--out', 'fs', '--recipe', 'tiny', preexec_fn=fsize, cwd=w))
    yield ('a .tsv catalogue', 'tokenizer traceback', _run('predict', '--model', run, '--images', I, '--catalog', w/'c.tsv', '--out', w/'p7.csv'))
    yield ('predict --out naming an existing directory', 'traceback', pred(out='adir.csv'))
    yield ('train --target oh_p50 oh_p50', "'Columns must be same length as key'", _run('train', '--catalog', cat, '--images', I, '--out', w/'tt', '--target', 'oh_p50', 'oh_p50'))
    df.rename(columns={'oh_p50': 'z'}).to_csv(w/'renamed.csv', index=False)
    yield ("evaluate on a catalogue without the model's target", "says 'pass --target', which evaluate does not have",
           _run('evaluate', '--model', run, '--images', I, '--catalog', w/'renamed.csv', '--out', w/'rep'))
    yield ('an empty objID', "'Out of range float values are not JSON compliant: nan'", _run('predict', '--model', run, '--images', I, '--catalog', w/'empty.csv', '--out', w/'p8.csv'))
    yield ("'#' comment lines above the header", 'tokenizer error', _run('predict', '--model', run, '--images', I, '--catalog', w/'comments.csv', '--out', w/'p9.csv'))
    yield ('objIDs that went through float', 'header-only CSV, exit 0', _run('predict', '--model', run, '--images', I, '--catalog', w/'floats.csv', '--out', w/'p10.csv'))
    yield ('pack with float objIDs', 'packs 0 of 70, exit 0', _run('pack', '--catalog', w/'floats.csv', '--images', I, '--out', w/'store'))
    yield ('every image missing (predict)', 'header-only output, exit 0', _run('predict', '--model', run, '--images', w/'adir.csv', '--catalog', cat, '--out', w/'p11.csv'))
    yield ('an argument error (train --recipe nope)', '6-14 s (torch imported first)', _run('train', '--catalog', cat, '--images', I, '--out', w/'rn', '--recipe', 'nope'))
    yield ('--no-tta help', "'average over the 8 dihedral symmetries ... (default: True)'",
           dict(code=None, s=None, last=' '.join(subprocess.run([shutil.which('metallicity-cnn'), 'predict', '--help'], capture_output=True, text=True).stdout.split('\n  --no-tta', 1)[1].split('\n  --', 1)[0].split())[:160]))
    yield ('names that replace fastai.vision.all names', 'load_model, save_model, load_image, rmse, download_images, image_size',
           _py("import fastai.vision.all as f; import metallicity_cnn.all as m; print(sorted(set(m.__all__) & set(dir(f))) or 'none')", w))
    yield ("GalaxyModel.load(run).predict without importing predict", 'AttributeError',
           _py(f"from metallicity_cnn.model import GalaxyModel; print(callable(GalaxyModel.load({str(run)!r}).predict))", w))
    yield ('import metallicity_cnn.learner: warnings shown', "torch.jit.script FutureWarning",
           _py("import warnings; warnings.simplefilter('default'); import metallicity_cnn.learner; print('imported')", w))
    yield ('FITS predictions read back', 'UnitsWarning for dex; objID as text (19A), join fails',
           (lambda r: r if r['code'] else _py(f"import warnings; warnings.simplefilter('error'); from astropy.table import Table, join; "
                                             f"p = Table.read({str(w/'p.fits')!r}); t = Table.read({str(cat)!r}); "
                                             f"print(p['objID'].dtype, len(join(t, p, keys='objID')), p.meta.get('MODEL', '')[:40])", w))(pred(out='p.fits')))

@call_parse
def main(out:str='bench/out/misuse', # output directory
        ):
    "Rerun the stranger's misuse cases and print the before/after table"
    s, out = sample_dir(), Path(out).resolve()
    if out.exists(): shutil.rmtree(out)
    w = out/'work'; w.mkdir(parents=True)
    os.umask(0o022)
    cat = w/'cat70.csv'; pd.read_csv(s/'catalog.csv', dtype={'objID': str}).head(70).to_csv(cat, index=False)
    r = _run('train', '--catalog', cat, '--images', s/'images', '--out', w/'run70', '--recipe', 'tiny')
    assert r['code'] == 0, r
    rows = []
    for case, before, now in _cases(w, s, cat, w/'run70'):
        rows.append(dict(case=case, before=before, **now)); print(f"{case}: {now}", flush=True)
    save_json(dict(rows=rows, command='python bench/misuse.py'), out/'misuse.json')
    shutil.rmtree(w)
    print('\n| case | before (issue #26) | now: exit | now: seconds | now: last line |\n|---|---|---|---|---|')
    for r in rows: print(f"| {r['case']} | {r['before']} | {r['code'] if r['code'] is not None else ''} | {r['s'] if r['s'] is not None else ''} | {r['last'].replace('|', '/')} |")
