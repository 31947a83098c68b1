"""Tests of the evaluation report and the analyses: every figure is written (PNG and PDF), has its panels and labels, and
draws the numbers of metrics.json; the baselines and the resolution study on tiny subsets (pure functions are tested in their notebooks)."""
import io
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from metallicity_cnn.core import load_json, load_metrics, rmse, calibrated_coverage
from metallicity_cnn.simulate import simulate_survey
from metallicity_cnn.relations import tremonti_mzr
from metallicity_cnn.evaluate import (coverage, report_figures, report_metrics, GALLERY_ROWS, FIGURE_FORMATS, _arr)
from metallicity_cnn.analyses import plot_resolution, plot_baselines
from conftest import cli

FIGS = ('gallery', 'truth_vs_pred', 'uncertainty')

def mc(*args):
    "Run `metallicity-cnn ARGS` in this process (`conftest.cli`); return its stdout"
    return cli(*args).stdout

@pytest.fixture(scope='module')
def survey(tmp_path_factory):
    out = tmp_path_factory.mktemp('sim')/'survey'
    simulate_survey(150, out, seed=1, size=32, progress=False)
    return out

@pytest.fixture(scope='module')
def mass_run(survey, tmp_path_factory):
    "Metallicity and stellar mass with the uncertainty head (tiny recipe), trained through the command line"
    out = tmp_path_factory.mktemp('runs')/'mass'
    mc('train', '--catalog', survey/'catalog.csv', '--images', survey/'images', '--out', out, '--recipe', 'tiny',
        '--target', 'oh_p50', 'lgm_tot_p50', '--gaussian')
    return out

@pytest.fixture(scope='module')
def mass_report(mass_run, survey, tmp_path_factory):
    out = tmp_path_factory.mktemp('rep')/'mass'
    return out, mc('evaluate', '--model', mass_run, '--catalog', survey/'catalog.csv', '--images', survey/'images', '--out', out, '--split', 'test')

@pytest.fixture(scope='module')
def real_report(run_dir, sample, small_catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp('rep')/'real'
    mc('evaluate', '--model', run_dir, '--catalog', small_catalog, '--images', sample/'images', '--out', out, '--split', 'test')
    return out

def _load(report):
    return pd.read_csv(report/'predictions.csv', dtype={'objID': str}), load_metrics(report)

def _png(fig):
    b = io.BytesIO(); fig.savefig(b, format='png', dpi=150); return b.getvalue()

def test_report_files(real_report, mass_report):
    for rep, targets in ((real_report, ['oh_p50']), (mass_report[0], ['oh_p50', 'lgm_tot_p50'])):
        names = [f'{f}_{t}' for t in targets for f in FIGS] + (['mzr'] if len(targets) > 1 else [])
        assert sorted(p.name for p in rep.iterdir()) == sorted(['metrics.json', 'predictions.csv'] + [f'{n}.{e}' for n in names for e in FIGURE_FORMATS])
        assert sorted(load_json(rep/'metrics.json')['figures']) == sorted(names)
        for n in names:
            with Image.open(rep/f'{n}.png') as im: assert im.format == 'PNG' and min(im.size) > 300
            assert (rep/f'{n}.pdf').read_bytes()[:5] == b'%PDF-' and (rep/f'{n}.pdf').stat().st_size > 5000
        assert not [p for p in rep.iterdir() if p.name.startswith('.')]  # no temporary file left behind

def test_written_figures_are_the_numbers_of_metrics_json(real_report, mass_report, sample, survey):
    "Redrawing every figure from metrics.json and predictions.csv alone gives the written PNG byte for byte"
    for rep, images in ((real_report, sample/'images'), (mass_report[0], survey/'images')):
        m, st = _load(rep)
        targets = list(report_metrics(st))
        figs = report_figures(m, st, images, targets, st['gaussian'])
        assert sorted(figs) == sorted(st['figures'])
        for name, fig in figs.items(): assert _png(fig) == (rep/f'{name}.png').read_bytes(), name

def test_truth_vs_pred_panels(real_report, sample):
    m, st = _load(real_report)
    fig = report_figures(m, st, sample/'images', ['oh_p50'])['truth_vs_pred_oh_p50']
    top, main, cbar = fig.axes
    assert (top.get_ylabel(), main.get_xlabel(), main.get_ylabel(), cbar.get_ylabel()) == \
           ('scatter [dex]', 'true 12 + log(O/H)', 'predicted 12 + log(O/H)', 'galaxies')
    b, g = st['binned']['oh_p50'], report_metrics(st)['oh_p50']
    np.testing.assert_array_equal(np.ma.filled(top.collections[0].get_offsets()[:, 1], np.nan), _arr(b['rmse']))
    np.testing.assert_array_equal(np.ma.filled(top.collections[1].get_offsets()[:, 1], np.nan), _arr(b['nmad']))
    sizes = top.collections[0].get_sizes()
    assert np.allclose(sizes / sizes.max(), np.array(b['n']) / max(b['n']))  # marker area proportional to the count
    assert [l.get_ydata()[0] for l in top.lines] == [g['rmse'], g['nmad']]
    assert {f"RMSE = {g['rmse']:.3f}", f"NMAD = {g['nmad']:.3f}"} <= {t.get_text() for t in top.get_legend().get_texts()}
    labels = [l.get_label() for l in main.lines]
    assert labels[:4] == ['one-to-one', 'binned median', '± binned RMSE', '± binned NMAD']
    np.testing.assert_array_equal(main.lines[1].get_ydata(), _arr(b['median_pred']))
    np.testing.assert_array_equal(main.lines[2].get_ydata(), _arr(b['median_pred']) + _arr(b['rmse']))
    # the binned numbers are those of the predictions
    assert sum(b['n']) == len(m) == report_metrics(st)['oh_p50']['n'] == 12
    assert g['rmse'] == pytest.approx(rmse(m.oh_p50_pred, m.oh_p50), abs=1e-12)

def test_gallery_panels(real_report, sample):
    m, st = _load(real_report)
    fig = report_figures(m, st, sample/'images', ['oh_p50'])['gallery_oh_p50']
    assert len(fig.axes) == 25
    assert [a.get_ylabel() for a in fig.axes[::5]] == list(GALLERY_ROWS.values())
    gal = st['gallery']['oh_p50']
    assert [a.get_title() for a in fig.axes] == [f"pred {g['pred']:.2f}\ntrue {g['true']:.2f}" for row in gal.values() for g in row]
    srt = m.sort_values('oh_p50_pred', kind='stable')
    assert [g['id'] for g in gal['lowest_pred']] == srt.objID[:5].tolist()
    d = (m.oh_p50_pred - m.oh_p50).to_numpy()
    assert [g['pred'] - g['true'] for g in gal['most_positive_delta']] == pytest.approx(np.sort(d)[::-1][:5])
    with Image.open(sample/'images'/f"{gal['random'][0]['id']}.jpg") as im:
        assert np.array_equal(fig.axes[20].images[0].get_array(), np.asarray(im.convert('RGB')))

def test_uncertainty_panels(real_report, mass_report, sample, survey):
    m, st = _load(real_report)
    fig = report_figures(m, st, sample/'images', ['oh_p50'])['uncertainty_oh_p50']
    assert len(fig.axes) == 2 and [a.get_xlabel() for a in fig.axes] == ['TTA spread [dex]']*2
    u = st['uncertainty']['oh_p50']
    assert 'coverage68' not in u and u['spread_median'] == pytest.approx(m.oh_p50_tta_std.median())
    m, st = _load(mass_report[0])
    figs = report_figures(m, st, survey/'images', ['oh_p50', 'lgm_tot_p50'], True)
    for t in ('oh_p50', 'lgm_tot_p50'):
        ax = figs[f'uncertainty_{t}'].axes
        assert len(ax) == 3 and ax[2].get_title() == 'calibration'
        assert (ax[2].get_xlabel(), ax[2].get_ylabel()) == ('nominal probability of the interval', 'fraction of truths inside')
        u = st['uncertainty'][t]
        assert list(ax[2].lines[1].get_ydata()) == u['calibration']['observed']
        assert u['coverage68'] == coverage(m[f'{t}_pred'], m[t], m[f'{t}_sigma'])  # the error bar is <t>_sigma, not the TTA spread
        assert u['spread_coverage68'] == coverage(m[f'{t}_pred'], m[t], m[f'{t}_tta_std'])
        assert f"68% coverage {u['coverage68']:.2f}" in ax[2].lines[1].get_label()
    lo, hi = u['coverage68_ci68']; assert lo < u['coverage68'] < hi # a fraction of 30 galaxies, with its Wilson interval
    sp = pd.read_csv(Path(st['model'])/'split.csv')
    n_val = int((sp.split == 'valid').sum()); assert load_json(Path(st['model'])/'model.json')['sigma_scale_n'] == n_val
    cal = calibrated_coverage(n_val, 30) # sigma was scaled on the run's validation galaxies: the range exact calibration leaves on 30 others
    assert u['coverage68_calibrated'] == cal == st['metrics']['test']['lgm_tot_p50']['coverage68_calibrated']
    assert f"coverage of the error bars: 68% {u['coverage68']:.2f} [{lo:.2f}, {hi:.2f}] (exactly calibrated: [{cal[0]:.2f}, {cal[1]:.2f}])" in mass_report[1]

def test_mzr_report(mass_report, survey):
    m, st = _load(mass_report[0])
    z = st['mzr']
    assert z['n'] == len(m) == 30
    inside = m.lgm_tot_p50_pred.between(8.5, 11.5)  # the relation is applied only where Tremonti et al. fitted it
    assert z['n_outside_tremonti'] == {'pred_mass': int((~inside).sum()), 'true_mass': 0}
    assert z['oh_from_pred_mass']['rmse'] == pytest.approx(rmse(tremonti_mzr(m.lgm_tot_p50_pred[inside]), m.oh_p50[inside]))
    assert z['oh_from_true_mass']['rmse'] == pytest.approx(rmse(tremonti_mzr(m.lgm_tot_p50), m.oh_p50))
    assert z['mass']['rmse'] == report_metrics(st)['lgm_tot_p50']['rmse']
    s = z['scatter_ratio']
    assert s['ratio'] == pytest.approx(s['nmad_pred'] / s['nmad_true']) and s['ratio_err'] > 0
    assert f"MZR scatter ratio NMAD(CNN)/NMAD(true) {s['ratio']:.3f}" in mass_report[1]
    ax = report_figures(m, st, survey/'images', ['oh_p50', 'lgm_tot_p50'], True)['mzr'].axes
    assert len(ax) == 3
    assert [a.get_xlabel() for a in ax] == ['true log $M_*$ [$M_\\odot$]', 'true 12 + log(O/H)', 'true log $M_*$ [$M_\\odot$]']
    p = z['scatter_ratio_paper']
    assert ax[2].get_title() == (f"NMAD(CNN)/NMAD(true): binned (paper) {p['ratio']:.2f} ± {p['ratio_err']:.2f}, "
                                 f"about fits {s['ratio']:.2f} ± {s['ratio_err']:.2f}")
    assert f"the paper's binned estimator {p['ratio']:.2f} ± {p['ratio_err']:.2f}" in mass_report[1]
    np.testing.assert_array_equal(ax[1].collections[0].get_offsets()[:, 1], tremonti_mzr(m.lgm_tot_p50_pred[inside]))

def test_limits_of_the_synthetic_survey(mass_report, mass_run, survey):
    "On a simulated survey evaluate writes the realised floor and the information limit, and draws both"
    m, st = _load(mass_report[0])
    cat = pd.read_csv(survey/'catalog.csv', dtype={'objID': str}).set_index('objID').loc[m.objID]
    t = st['metrics']['test']['oh_p50']
    assert t['floor_realised'] == pytest.approx(rmse(cat.oh_p50, cat.oh_relation), rel=1e-5)
    assert t['rmse_over_limit'] == pytest.approx(t['rmse'] / t['information_limit'])
    assert st['limits']['regressor']['n_train'] == (pd.read_csv(mass_run/'split.csv').split == 'train').sum()
    assert f"information limit {t['information_limit']:.4f}" in mass_report[1]
    top = report_figures(m, st, survey/'images', ['oh_p50'], True)['truth_vs_pred_oh_p50'].axes[0]
    assert [l.get_ydata()[0] for l in top.lines[2:]] == [t['information_limit'], t['floor_realised']]

def test_baselines_real_subset(run_dir, sample, small_catalog, tmp_path):
    "Image colours (the real sample has no magnitudes: the gri forest falls back, and says so) and an r-band CNN, on the run's own test galaxies"
    out = tmp_path/'bl'
    r = mc('baselines', '--model', run_dir, '--catalog', small_catalog, '--images', sample/'images', '--out', out)
    b = load_json(out/'baselines.json')
    methods = ['mean', 'random_forest_image', 'cnn_r', 'cnn_gri']
    assert (b['features'], b['features_requested']) == ('image', 'gri') and list(b['methods']) == methods and (b['n_train'], b['n_test']) == (36, 12)
    assert 'no g, r, i magnitudes' in b['feature_note'] and f"note: {b['feature_note']}" in r
    p = pd.read_csv(out/'baseline_predictions.csv', dtype={'objID': str})
    sp = pd.read_csv(run_dir/'split.csv', dtype={'objID': str})
    assert sorted(p.objID) == sorted(sp.objID[sp.split == 'test'])
    assert pd.read_csv(out/'rband_run'/'split.csv', dtype={'objID': str}).equals(sp)
    for k in methods: assert b['metrics']['oh_p50'][k]['rmse'] == pytest.approx(rmse(p[f'oh_p50_{k}'], p.oh_p50), abs=1e-12)
    assert b['metrics']['oh_p50']['cnn_gri']['rmse'] == pytest.approx(load_metrics(run_dir)['metrics']['test']['oh_p50']['rmse'], abs=1e-4)
    assert (p.oh_p50_mean == p.oh_p50_mean[0]).all()
    ax = plot_baselines(b).axes
    assert len(ax) == 1 and ax[0].get_xlabel() == 'scatter of 12 + log(O/H) [dex]'
    assert [t.get_text() for t in ax[0].get_yticklabels()] == ['mean predictor', 'random forest (image colours, no catalogue magnitudes)', 'CNN, r band only', 'CNN, gri']
    assert [r.get_width() for r in ax[0].patches] == [b['metrics']['oh_p50'][k][s] for s in ('rmse', 'nmad') for k in methods]
    assert _png(plot_baselines(b)) == (out/'baselines.png').read_bytes() and (out/'baselines.pdf').stat().st_size > 5000

def test_baselines_morphology(run_dir, sample, small_catalog, tmp_path):
    "A forest on image colours and statmorph morphology, scored like the others, each method's RMSE against the CNN's paired"
    r = mc('baselines', '--model', run_dir, '--catalog', small_catalog, '--images', sample/'images', '--out', tmp_path, '--no-rband', '--features', 'morphology')
    b = load_json(tmp_path/'baselines.json')
    assert (b['features'], b['feature_note']) == ('morphology', None) and list(b['methods']) == ['mean', 'random_forest_morphology', 'cnn_gri']
    assert b['feature_names'][-3:] == ['sersic_n', 'elongation', 'colour_gradient'] and b['n_test'] == 12
    p = pd.read_csv(tmp_path/'baseline_predictions.csv')
    d = b['minus_cnn']['oh_p50']['random_forest_morphology']
    assert d['diff'] == pytest.approx(rmse(p.oh_p50_random_forest_morphology, p.oh_p50) - rmse(p.oh_p50_cnn_gri, p.oh_p50), abs=1e-12)
    assert d['ci68'][0] <= d['diff'] <= d['ci68'][1] and "minus the CNN's RMSE" in r

def test_baselines_magnitudes(mass_run, survey, tmp_path):
    mc('baselines', '--model', mass_run, '--catalog', survey/'catalog.csv', '--images', survey/'images', '--out', tmp_path, '--no-rband')
    b = load_json(tmp_path/'baselines.json')
    assert b['features'] == 'gri' and b['feature_names'] == ['modelMag_g', 'modelMag_r', 'modelMag_i'] and b['feature_note'] is None
    assert list(b['methods']) == ['mean', 'random_forest_gri', 'cnn_gri'] and list(b['metrics']) == ['oh_p50', 'lgm_tot_p50']
    assert b['noise_floor'] == 0.1 and len(plot_baselines(b).axes) == 2
    assert not (tmp_path/'rband_run').exists()

def test_resolution_study(survey, tmp_path):
    mc('resolution', '--catalog', survey/'catalog.csv', '--images', survey/'images', '--out', tmp_path,
            '--sizes', 4, 1, '--recipe', 'tiny', '--seeds', 0, 1)
    r = load_json(tmp_path/'resolution.json')
    assert [s['size'] for s in r['sizes']] == [4, 1] and r['recipe']['name'] == 'tiny' and r['seeds'] == [0, 1] and r['reference'] == 4
    assert [load_json(tmp_path/f'size{s:03d}-s{k}'/'model.json')['size'] for s in (4, 1) for k in (0, 1)] == [4, 4, 1, 1]
    for s in r['sizes']:
        m = [load_metrics(tmp_path/f"size{s['size']:03d}-s{k}")['metrics']['test']['oh_p50'] for k in (0, 1)]
        assert np.allclose(s['rmse_seeds'], [v['rmse'] for v in m], atol=1e-6) and s['n'] == 30 == m[0]['n']
        assert abs(s['rmse'] - np.mean(s['rmse_seeds'])) < 1e-12 and s['minus_largest']['n'] == 30
    assert pd.read_csv(tmp_path/'size004-s0'/'split.csv').equals(pd.read_csv(tmp_path/'size001-s1'/'split.csv'))
    assert len(pd.read_csv(tmp_path/'predictions.csv')) == 2 * 2 * 30
    ax = plot_resolution(r).axes
    assert len(ax) == 1 and (ax[0].get_xlabel(), ax[0].get_ylabel()) == ('image size [pixels]', 'scatter of 12 + log(O/H) [dex]')
    assert list(ax[0].lines[0].get_ydata()) == [s['rmse'] for s in r['sizes']]
    assert [a.xy[1] for a in ax[0].texts] == [r['mean_predictor']['rmse'], r['mean_predictor']['nmad']]  # the arrows
    assert _png(plot_resolution(r)) == (tmp_path/'resolution.png').read_bytes()
