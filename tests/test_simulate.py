"Tests of the synthetic survey as files: layout, determinism, the relation in the written catalogue, errors, the commands (the relations of the drawn population are tested in nbs/03_simulate.ipynb)."
import json
import numpy as np, pandas as pd, pytest
from PIL import Image
from metallicity_cnn.simulate import simulate_survey, MAG_LIMIT, Z_RANGE, LOGM_RANGE
from metallicity_cnn.relations import tremonti_mzr
from metallicity_cnn.cli import run_command
from conftest import cli

N = 300

@pytest.fixture(scope='module')
def survey(tmp_path_factory):
    out = tmp_path_factory.mktemp('sim')/'survey'
    simulate_survey(N, out, seed=0, progress=False)
    return out

@pytest.fixture(scope='module')
def cat(survey): return pd.read_csv(survey/'catalog.csv', dtype={'objID': str})

def _img(survey, oid): return np.array(Image.open(survey/'images'/f'{oid}.jpg'))

def test_layout(survey, cat):
    assert sorted(p.name for p in survey.iterdir()) == ['catalog.csv', 'images', 'survey.json']
    assert len(cat) == N and cat.objID.is_unique and cat.objID.str.fullmatch(r'8\d{18}').all()
    for c in ['oh_p50', 'lgm_tot_p50', 'sfr_tot_p50', 'z', 'petroR50_r', 'noise_floor', 'bulge_frac', 'bulge_n', 'disk_re',
              'inclination', 'pa', *(f'modelMag{s}_{b}' for b in 'ugriz' for s in ('', 'Err')), *(f'modelMag_{b}_true' for b in 'ugriz')]:
        assert c in cat.columns and cat[c].notna().all(), c
    assert sorted(p.stem for p in (survey/'images').glob('*.jpg')) == sorted(cat.objID)
    im = Image.open(survey/'images'/f'{cat.objID[0]}.jpg')
    assert (im.format, im.mode, im.size) == ('JPEG', 'RGB', (128, 128))
    meta = json.loads((survey/'survey.json').read_text())
    assert meta['noise_floor'] == meta['scatter'] == 0.1 and meta['n'] == N and meta['seed'] == 0
    assert (cat.noise_floor == 0.1).all()

def test_survey_limits(cat):
    assert (cat.modelMag_r_true < MAG_LIMIT).all() and cat.z.between(*Z_RANGE).all() and cat.lgm_tot_p50.between(*LOGM_RANGE).all()
    assert not cat.quenched.any() # star-forming galaxies only by default, as in MPA-JHU metallicity catalogues
    assert cat.inclination.between(0, 90).all() and cat.pa.between(0, 180).all() and cat.bulge_frac.between(0, 1).all()

def test_deterministic(survey, cat, tmp_path):
    a = simulate_survey(40, tmp_path/'a', seed=0, progress=False)
    simulate_survey(40, tmp_path/'b', seed=0, workers=2, progress=False)
    assert (tmp_path/'a'/'catalog.csv').read_bytes() == (tmp_path/'b'/'catalog.csv').read_bytes()
    for o in a.objID:
        b = (tmp_path/'a'/'images'/f'{o}.jpg').read_bytes()
        assert b == (tmp_path/'b'/'images'/f'{o}.jpg').read_bytes() == (survey/'images'/f'{o}.jpg').read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path/'a'/'catalog.csv', dtype={'objID': str}), cat.head(40))
    c = simulate_survey(40, tmp_path/'c', seed=1, progress=False)
    assert not np.allclose(c.oh_p50, a.oh_p50) and not set(c.objID) & set(a.objID)
    assert (tmp_path/'c'/'images'/f'{c.objID[0]}.jpg').read_bytes() != (tmp_path/'a'/'images'/f'{a.objID[0]}.jpg').read_bytes()

def test_mzr_in_output(cat):
    "Metallicity scatters about the relation by the scatter parameter; the relation is the Tremonti MZR with its slope, plus the size term"
    r = cat.oh_p50 - cat.oh_relation
    assert abs(r.mean()) < 3*0.1/np.sqrt(N) and abs(r.std() - 0.1) < 0.015
    slope, se = np.polyfit(cat.lgm_tot_p50, cat.oh_p50, 1)[0], 0.1/(cat.lgm_tot_p50.std()*np.sqrt(N))
    assert abs(slope - np.polyfit(cat.lgm_tot_p50, tremonti_mzr(cat.lgm_tot_p50), 1)[0]) < 3*se
    np.testing.assert_allclose(cat.oh_relation - cat.oh_size_offset, tremonti_mzr(cat.lgm_tot_p50), atol=1e-5)

def test_image_colour_follows_catalogue(survey, cat):
    "In the written JPEGs, galaxies that are redder in g-i have redder centres (R - B)"
    rgb = np.stack([_img(survey, o)[56:72, 56:72].reshape(-1, 3).mean(0) for o in cat.objID])
    red = (rgb[:, 0] - rgb[:, 2])/(rgb.sum(1) + 1)
    assert np.corrcoef(red, cat.modelMag_g - cat.modelMag_i)[0, 1] > 0.3
    # and galaxies of higher surface brightness have brighter centres (framed at their Petrosian size, every galaxy spans the same pixels)
    assert np.corrcoef(rgb.sum(1), -(cat.modelMag_r + 5*np.log10(cat.petroR50_r)))[0, 1] > 0.5

@pytest.mark.parametrize('kw,msg', [(dict(n=0), '>= 1'), (dict(n=-5), '>= 1'), (dict(n=2.5), 'integer'),
                                    (dict(size=0), 'at least 8 pixels'), (dict(size=4), 'at least 8 pixels'),
                                    (dict(scatter=-0.1), 'scatter'), (dict(relation='kewley'), 'choose one of'),
                                    (dict(seed=-1), 'seed'), (dict(seed=10**6), 'seed'), (dict(workers=-1), 'workers')])
def test_bad_parameters(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg): simulate_survey(**{'n': 3, 'out': tmp_path/'o', **kw})
    assert not (tmp_path/'o').exists()

def test_existing_output(tmp_path):
    out = tmp_path/'o'; out.mkdir(); (out/'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty'): simulate_survey(3, out, progress=False)
    assert (out/'notes.txt').read_text() == 'mine' and not (out/'images').exists()
    simulate_survey(8, tmp_path/'s', progress=False)
    simulate_survey(3, tmp_path/'s', seed=4, overwrite=True, progress=False)
    assert len(list((tmp_path/'s'/'images').glob('*.jpg'))) == 3 and len(pd.read_csv(tmp_path/'s'/'catalog.csv')) == 3
    (tmp_path/'f').write_text('x')
    with pytest.raises(NotADirectoryError): simulate_survey(3, tmp_path/'f', progress=False)

def test_interrupted_run_is_not_a_survey(tmp_path, monkeypatch):
    "A failure while rendering leaves no catalogue and no images/, and the next run may reuse the directory"
    import metallicity_cnn.simulate as sim
    def boom(args): raise KeyboardInterrupt
    monkeypatch.setattr(sim, '_render_one', boom)
    with pytest.raises(KeyboardInterrupt): simulate_survey(5, tmp_path/'o', progress=False)
    assert not (tmp_path/'o'/'catalog.csv').exists() and not (tmp_path/'o'/'images').exists()
    monkeypatch.undo()
    simulate_survey(5, tmp_path/'o', progress=False)
    assert len(list((tmp_path/'o'/'images').glob('*.jpg'))) == 5

def test_cli(tmp_path):
    assert run_command(['simulate', '--n', '4', '--out', str(tmp_path/'s'), '--seed', '7', '--size', '64']) == 0
    c = pd.read_csv(tmp_path/'s'/'catalog.csv', dtype={'objID': str})
    assert c.objID.tolist() == [f'8000007{i:012d}' for i in range(4)]
    assert Image.open(tmp_path/'s'/'images'/f'{c.objID[0]}.jpg').size == (64, 64)
    assert run_command(['simulate', '--n', '4', '--out', str(tmp_path/'s')]) == 1 # not empty
    assert run_command(['simulate', '--n', '0', '--out', str(tmp_path/'t')]) == 1

def test_installed_command(tmp_path):
    r = cli('simulate', '--n', 3, '--out', tmp_path/'s', '--workers', 2, fresh=True) # the console script as installed
    assert 'wrote 3 galaxies' in r.stdout and 'noise floor 0.1' in r.stdout
    r = cli('simulate', '--scatter', -1, '--out', tmp_path/'t', check=False)
    assert r.returncode == 1 and 'scatter' in r.stderr and 'Traceback' not in r.stderr

def test_realism_commands(sample, tmp_path):
    "image-stats and realism compare a simulated survey with the real cutouts: a table of KS distances, an out-of-fold ROC AUC"
    cli('simulate', '--n', 12, '--out', tmp_path/'sim', '--scale', 'petrosian')
    r = cli('image-stats', '--real', sample, '--sim', tmp_path/'sim', '--out', tmp_path/'stats', '--n', 12, '--workers', 0)
    assert 'statistics with KS distance below 0.15' in r.stdout and 'sky_grain' in r.stdout
    doc = json.loads((tmp_path/'stats'/'image_stats.json').read_text())
    assert (doc['n_real'], doc['n_simulated']) == (12, 12) and {s['stat'] for s in doc['stats']} >= {'r50', 'gini', 'sky_sigma'}
    assert all(0 <= s['ks'] <= 1 for s in doc['stats']) and (tmp_path/'stats'/'image_stats.png').exists()
    per = pd.read_csv(tmp_path/'stats'/'image_stats.csv')
    assert len(per) == 24 and set(per['sample']) == {'real', 'simulated'} # every cutout has a row, measured or with its error
    r = cli('realism', '--real', sample, '--sim', tmp_path/'sim', '--out', tmp_path/'rt', '--n', 12, '--folds', 2, '--epochs', 1)
    res = json.loads((tmp_path/'rt'/'realism.json').read_text())
    assert res['n'] == 24 and 0 <= res['auc'] <= 1 and f"ROC AUC {res['auc']:.3f}" in r.stdout
    r = cli('realism', '--real', sample, '--sim', tmp_path/'sim', '--out', tmp_path/'rt', '--n', 10, '--folds', 2, '--epochs', 1, check=False)
    assert r.returncode == 1 and 'holds a realism test of other inputs' in r.stderr and "n: 12 -> 10" in r.stderr
    cli('simulate', '--n', 12, '--out', tmp_path/'sim2', '--seed', 1, '--scale', 'petrosian')
    first = (tmp_path/'rt'/'cv'/'fold0'/'model.pt').read_bytes()
    cli('realism', '--real', sample, '--sim', tmp_path/'sim2', '--out', tmp_path/'rt', '--n', 12, '--folds', 2, '--epochs', 1, '--overwrite')
    assert json.loads((tmp_path/'rt'/'realism.json').read_text())['inputs']['simulated'] == str((tmp_path/'sim2').resolve())
    assert (tmp_path/'rt'/'cv'/'fold0'/'model.pt').read_bytes() != first # other cutouts under the same ids: retrained, not reused
