"""Catalogue query and cutout download against a fake SkyServer on 127.0.0.1 that answers in the real service's shapes
(JSON HTTP 500 for SQL errors and timeouts, spExecuteSQL's error tables, 404 outside the footprint, clamped sizes) and
injects the faults of a real one."""
import inspect, signal, socket, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from fake_skyserver import FakeSkyServer, make_catalog
from metallicity_cnn.core import load_json, example_sample
from metallicity_cnn.cli import run_command
from metallicity_cnn.sdss import *

FAST = dict(timeout=0.5, retries=3, backoff=0.01)  # short timeouts and backoff keep the suite fast
QUICK_SQL = dict(max_qpm=60_000, timeout=5, retries=2, backoff=0.01)
# QUICK_SQL's 5 s read timeout is below SkyServer's 600 s on purpose; test_short_timeout_warns checks the warning
pytestmark = pytest.mark.filterwarnings("ignore:timeout=.* is shorter than SkyServer's 600 s query limit")


def valid_files(d, size=128):
    "objIDs of the valid JPEGs under their final names in `d`"
    return {p.stem for p in Path(d).glob('*.jpg') if check_jpeg(p.read_bytes(), size) is None}

def closed_port_url():
    "URL of a port on 127.0.0.1 where nothing listens (connections are refused at once)"
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
    return f'http://127.0.0.1:{port}'


# ---------------------------------------------------------------- SQL builder

def test_sql_has_the_paper_cuts_and_columns():
    sql = selection_sql()
    cuts = ['g.petroMag_r > 10', 'g.petroMag_r < 18', 'g.modelMag_u - g.modelMag_r > 0', 'g.modelMag_u - g.modelMag_r < 6',
            's.rChi2 < 2', 's.zErr > 0', 's.zErr < 0.01', 's.z > 0.02', 'e.oh_p50 <> -9999']
    cuts += [f'g.modelMag_{b} {op} {v}' for b in 'ugriz' for op, v in (('>', 10), ('<', 25))]
    for c in cuts: assert c in sql, c
    for c in ['objID', 'specObjID', 'ra', 'dec', 'z', 'zErr', 'petroR50_r', 'petroR90_r', 'bptclass', 'oh_p16', 'oh_p50',
              'oh_p84', 'lgm_tot_p16', 'lgm_tot_p50', 'lgm_tot_p84', 'sfr_tot_p50',
              *[f'modelMag_{b}' for b in 'ugriz'], *[f'modelMagErr_{b}' for b in 'ugriz']]:
        assert f'.{c},' in sql or f'.{c}\n' in sql, c
    for t in ['FROM SpecObj AS s', 'JOIN Galaxy AS g', 'JOIN GalSpecInfo AS i', 'JOIN GalSpecExtra AS e']: assert t in sql
    assert sql.endswith('ORDER BY g.objID, s.specObjID') and 'TOP' not in sql


def test_sql_cuts_are_parameters():
    sql = selection_sql(petro_r=(12, 17.5), model_mag=(None, 24), max_rchi2=None, min_z=0.05, no_sentinel=False)
    assert 'g.petroMag_r > 12' in sql and 'g.petroMag_r < 17.5' in sql and 's.z > 0.05' in sql
    assert 'g.modelMag_z < 24' in sql and 'g.modelMag_z >' not in sql
    assert 'rChi2' not in sql and 'oh_p50 <>' not in sql


def test_sql_paging_is_keyset_on_objid_then_specobjid():
    sql = selection_sql(top=500_000, after=('1237648704043942146', '299489677444933632'))
    assert sql.startswith('SELECT TOP 500000 ')
    assert ('AND (g.objID > 1237648704043942146 OR (g.objID = 1237648704043942146 '
            'AND s.specObjID > 299489677444933632))') in sql
    with pytest.raises(ValueError): selection_sql(after=("0) OR (1=1", '1'))


def test_error_tables_and_pages_are_not_parsed_as_data():
    with pytest.raises(SkyServerError, match='HTML page'): parse_csv('\n  <!DOCTYPE html><html><body>Error</body></html>')
    with pytest.raises(SkyServerError, match='refused the query: error: must be a select statement'):
        parse_csv('#Table1\nerror_message\nerror: must be a select statement: DROP TABLE x\n')
    with pytest.raises(SkyServerError, match='pass --page-size 1000 or less'):
        parse_csv('#Table1\nerror_message\nerror: limit is  top 1000 select top 5000 objid from galaxy\n')
    t = parse_csv('#Table1\nobjID,specObjID,oh_p50\n1237648704043942146,18446744073709551615,8.9\n')
    assert t.objID[0] == '1237648704043942146' and t.specObjID[0] == '18446744073709551615'


# ---------------------------------------------------------------- releases

@pytest.mark.parametrize('release,match', [(7, 'has no MPA-JHU tables'), (11, 'not served by SkyServerWS'),
                                           (18, 'SDSS-V release'), (19, 'SDSS-V release')])
def test_releases_without_the_mpa_jhu_tables_are_refused_before_any_request(tmp_path, release, match):
    with FakeSkyServer(make_catalog(3)) as fs:
        with pytest.raises(ValueError, match=match): download_catalog(tmp_path/'c.csv', release=release, server=fs.url)
        with pytest.raises(ValueError, match='pass --release 12 to 17'):
            download_images(make_catalog(3), tmp_path/'img', release=release, server=fs.url, progress=False)
        assert fs.log == []
    assert [server_url(r) for r in (12, 17)] == ['https://skyserver.sdss.org/dr12', 'https://skyserver.sdss.org/dr17']


# ---------------------------------------------------------------- catalogue over HTTP

def catalog_with_split_duplicate(n):
    "`n` sample rows plus a second spectrum of the 4th galaxy (in key order), which falls on a page boundary of 4"
    cat = make_catalog(n).sort_values('objID', key=lambda s: s.astype(int), ignore_index=True)
    extra = cat.iloc[[3]].assign(specObjID=str(int(cat.specObjID.max()) + 1))
    return pd.concat([cat, extra], ignore_index=True)


@pytest.mark.parametrize('page_size,n_queries', [(4, 24//4 + 1), (5, 5), (7, 4), (24, 2), (500_000, 1)])
def test_paging_returns_every_row_once_and_stops_on_a_short_page(page_size, n_queries):
    cat = catalog_with_split_duplicate(23)  # 24 rows
    with FakeSkyServer(cat) as fs:
        df, nq = query_catalog(fs.url, page_size=page_size, **QUICK_SQL)
        asked = [int(r['q']['cmd'].split('TOP ')[1].split()[0]) for r in fs.requests_for('sql')]
    keys = [(int(o), int(s)) for o, s in zip(df.objID, df.specObjID)]
    assert keys == sorted(set(keys)) and len(keys) == 24 and set(df.specObjID) == set(cat.specObjID)
    assert nq == n_queries == len(asked) and set(asked) == {page_size}  # an empty page only when page_size divides 24


def test_default_page_is_the_server_limit_and_a_larger_one_is_refused_with_advice():
    assert inspect.signature(query_catalog).parameters['page_size'].default == MAX_ROWS == 500_000
    assert inspect.signature(download_catalog).parameters['page_size'].default == MAX_ROWS
    with FakeSkyServer(make_catalog(12), max_rows=4) as fs:  # a server whose spExecuteSQL limit is 4 rows
        with pytest.raises(SkyServerError, match=r'at most 4 rows per query and refused a larger page: pass --page-size 4'):
            query_catalog(fs.url, page_size=5, **QUICK_SQL)
        assert len(fs.requests_for('sql')) == 1
        assert len(query_catalog(fs.url, page_size=4, **QUICK_SQL)[0]) == 12


def test_download_catalog_writes_catalog_and_provenance(tmp_path):
    cat = catalog_with_split_duplicate(12)
    out = tmp_path/'cat.csv'
    with FakeSkyServer(cat) as fs, pytest.warns(UserWarning, match='1 galaxies have several spectra'):
        df = download_catalog(out, server=fs.url, page_size=3, **QUICK_SQL)
    back = pd.read_csv(out, dtype={'objID': str, 'specObjID': str})
    assert back.objID.tolist() == df.objID.tolist() and back.objID.is_unique and len(back) == 12
    assert set(back.objID) == set(cat.objID) and back.oh_p50.tolist() == pytest.approx(df.oh_p50.tolist())
    prov = load_json(provenance_path(out))
    assert prov['sql'] == selection_sql() and prov['release'] == 14 and prov['server'] == fs.url
    assert prov['n_rows'] == 12 and prov['n_queries'] == 5 and prov['n_duplicates_dropped'] == 1 and prov['date'][:2] == '20'
    assert 'pages of 3 rows' in prov['paging']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cat.csv', 'cat.provenance.json']  # no temporary files left


def test_limit_asks_only_for_the_missing_rows(tmp_path):
    with FakeSkyServer(make_catalog(20)) as fs:
        df = download_catalog(tmp_path/'c.csv', server=fs.url, limit=7, page_size=3, **QUICK_SQL)
        assert len(df) == 7 and len(fs.requests_for('sql')) == 3
    assert load_json(tmp_path/'c.provenance.json')['n_rows'] == 7


def test_503_and_429_are_retried_honouring_retry_after_and_the_rate():
    assert inspect.signature(query_catalog).parameters['max_qpm'].default == 60
    assert inspect.signature(download_catalog).parameters['max_qpm'].default == 60
    with FakeSkyServer(make_catalog(12), retry_after=1, faults={'sql': ['503', '502', '504', '429']}) as fs:
        df, nq = query_catalog(fs.url, page_size=5, max_qpm=300, timeout=5, retries=5, backoff=0)
        t = np.array([r['t'] for r in fs.requests_for('sql')])
    assert len(df) == 12 and nq == 3 and len(t) == 7  # four answers were retried
    assert np.diff(t).min() >= 0.9 * 60/300
    assert t[4] - t[3] >= 0.95  # Retry-After: 1 after the 429


def test_an_sql_error_is_sent_once_and_its_message_reaches_the_user(tmp_path, capsys):
    # a database without GalSpecExtra, as a release without the MPA-JHU tables: HTTP 500 with SkyServer's JSON body
    with FakeSkyServer(make_catalog(5), tables=('SpecObj', 'Galaxy', 'GalSpecInfo')) as fs:
        with pytest.raises(SkyServerError, match=r"SkyServer rejected the query: HTTP 500: Invalid object name 'GalSpecExtra'\.$"):
            download_catalog(tmp_path/'c.csv', server=fs.url, **QUICK_SQL)
        assert len(fs.requests_for('sql')) == 1
        assert run_command(['download-catalog', '--out', str(tmp_path/'c.csv'), '--server', fs.url]) == 1
        assert len(fs.requests_for('sql')) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and "Invalid object name 'GalSpecExtra'" in err and 'nothing was written' in err
    assert list(tmp_path.iterdir()) == []


def test_a_query_timeout_is_final_and_says_to_ask_for_smaller_pages(tmp_path):
    with FakeSkyServer(make_catalog(5), faults={'sql': ['sqltimeout']*5}) as fs:
        with pytest.raises(SkyServerError, match=r"stopped the query at its 600 s limit \(Execution Timeout Expired.*--page-size 50000"):
            download_catalog(tmp_path/'c.csv', server=fs.url, **QUICK_SQL)
        assert len(fs.requests_for('sql')) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('fault,match', [('html', 'HTML page'), ('throttle', 'refused the query: ERROR: Maximum 60 queries'),
                                         ('500', "rejected the query: HTTP 500: Invalid column name 'rChi3'"),
                                         ('truncated', r'the answer from http://127.0.0.1:\d+ broke off')])
def test_other_errors_are_reported_once_and_nothing_is_written(tmp_path, fault, match):
    with FakeSkyServer(make_catalog(5), faults={'sql': [fault]*10}) as fs:
        with pytest.raises(SkyServerError, match=match): download_catalog(tmp_path/'c.csv', server=fs.url, **QUICK_SQL)
        assert len(fs.requests_for('sql')) == 1
    assert list(tmp_path.iterdir()) == []


def test_read_timeout_exceeds_the_servers_and_a_client_timeout_is_not_retried():
    for f in (run_sql, query_catalog, download_catalog, download_catalog_cli.__wrapped__):
        assert inspect.signature(f).parameters['timeout'].default > QUERY_LIMIT_S == 600, f
    with FakeSkyServer(make_catalog(5), slow_s=1.0, faults={'sql': ['slow']*5}) as fs:
        with pytest.raises(SkyServerError, match=r'no answer from .* within 0.3 s; SkyServer ends a query at 600 s'):
            query_catalog(fs.url, timeout=0.3, retries=3, backoff=0.01, max_qpm=60_000)
        assert len(fs.requests_for('sql')) == 1 # the client's timeout is not retried


def test_short_timeout_warns():
    with FakeSkyServer(make_catalog(3)) as fs, pytest.warns(UserWarning, match=r"timeout=5 s is shorter than SkyServer's 600 s"):
        assert len(query_catalog(fs.url, **QUICK_SQL)[0]) == 3


def test_a_dead_sql_server_ends_the_query_quickly():
    with pytest.raises(SkyServerError, match=r'the connection to http://127.0.0.1:\d+ failed \(Connection refused\)'):
        query_catalog(closed_port_url(), retries=2, backoff=0.01, max_qpm=6000)


def test_catalog_cli(tmp_path, capsys):
    # single-word options only: their spelling does not depend on how the dispatcher spells multi-word ones
    out = str(tmp_path/'c.csv')
    with FakeSkyServer(make_catalog(9)) as fs:
        assert run_command(['download-catalog', '--out', out, '--server', fs.url]) == 0
        assert len(fs.requests_for('sql')) == 1  # the default page holds the whole sample
        fs.faults['sql'] = ['html']
        assert run_command(['download-catalog', '--out', str(tmp_path/'d.csv'), '--server', fs.url]) == 1
    err = capsys.readouterr().err
    assert 'HTML page' in err and 'nothing was written' in err and len(pd.read_csv(out)) == 9
    assert run_command(['download-catalog', '--server', fs.url]) == 1
    assert '--out is required' in capsys.readouterr().err
    assert run_command(['download-catalog', '--out', out, '--release', '18']) == 1
    assert capsys.readouterr().err.strip().endswith('pass --release 12 to 17 (the paper used 14)')


# ---------------------------------------------------------------- images

def test_every_row_is_a_valid_file_or_a_recorded_failure(tmp_path):
    cat = make_catalog(24)
    asked = cat.copy()
    asked.loc[11, ['ra', 'dec']] = (10., -80.)  # outside the footprint: the server answers 404
    ids = cat.objID
    faults = {ids[0]: ['503', '502'], ids[1]: ['504'], ids[3]: ['slow'], ids[4]: ['truncated'], ids[5]: ['html'],
              ids[6]: ['500']*10, ids[7]: ['blank']*10, ids[8]: ['small']*10, ids[9]: ['truncated']*10, ids[10]: ['slow']*10}
    with FakeSkyServer(cat, slow_s=0.8, faults=faults) as fs:
        m = download_images(asked, tmp_path, scale=0.296, workers=4, max_rate=50, server=fs.url, progress=False, **FAST)
        served = {k: len(fs.requests_for(k)) for k in ids}
        n_outside = len(fs.requests_for('outside'))
    assert m.objID.tolist() == ids.tolist()  # one manifest row per catalogue row, in order
    expected = {ids[6]: 'HTTP 500 INTERNAL SERVER ERROR. The frames could not be read.', ids[7]: 'blank image',
                ids[8]: 'wrong size 64x64 (expected 128x128)', ids[9]: 'invalid image: body cut off', ids[10]: 'timeout'}
    failed = m[m.status == 'failed']
    assert dict(zip(failed.objID, failed.reason)) == expected
    assert m.status[11] == 'absent' and m.reason[11] == 'no image at these coordinates' and m.attempts[11] == n_outside == 1
    assert valid_files(tmp_path) == set(ids) - set(expected) - {ids[11]}  # nothing lost: the rest are valid files
    assert not any(tmp_path.glob('*.tmp')) and not any(tmp_path.glob('.*.tmp'))
    att = dict(zip(m.objID, m.attempts))
    assert [att[i] for i in ids[:11]] == [3, 2, 1, 2, 2, 2, 1, 1, 1, 4, 4]  # 500, blank and size are not retried
    assert {i: served[i] for i in ids[:11]} == {i: att[i] for i in ids[:11]}
    assert (m[m.status == 'ok'].reason == 'downloaded').all() and (m.scale == 0.296).all()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path/'manifest.csv', dtype={'objID': str}), m)


def test_off_footprint_is_recorded_never_retried_and_not_a_fault(tmp_path, capsys):
    cat = make_catalog(12)
    asked = cat.copy()
    asked.loc[:7, 'ra'], asked.loc[:7, 'dec'] = 10. + np.arange(8), -80.  # the first 8 are outside the footprint
    asked.to_csv(tmp_path/'cat.csv', index=False)
    args = ['download-images', '--catalog', str(tmp_path/'cat.csv'), '--out', str(tmp_path/'img'), '--no-progress',
            '--retries', '3', '--backoff', '0.01', '--timeout', '2', '--workers', '2', '--max-failures', '2']
    with FakeSkyServer(cat) as fs:
        assert run_command(args + ['--server', fs.url]) == 0  # rows outside the footprint are not failures
        assert len(fs.requests_for('outside')) == 8  # once each, although a streak of 2 would stop a failing run
        assert run_command(args + ['--server', fs.url]) == 0
        assert len(fs.log) == 12  # the rerun asks for nothing: 4 images present, 8 known to be outside
    out = capsys.readouterr().out
    assert '12 rows: 4 ok (0 already present, 4 downloaded), 8 outside the survey footprint, 0 failed' in out
    assert '12 rows: 4 ok (4 already present, 0 downloaded), 8 outside the survey footprint, 0 failed' in out
    m = pd.read_csv(tmp_path/'img'/'manifest.csv', dtype={'objID': str})
    assert (m.status == 'absent').sum() == 8 and (m.reason[m.status == 'absent'] == 'no image at these coordinates').all()
    assert {p.stem for p in (tmp_path/'img').glob('*.jpg')} == set(cat.objID[8:])


def test_a_404_without_the_footprint_message_is_an_error(tmp_path):
    with FakeSkyServer(make_catalog(3)) as fs:  # a wrong path: the server's 404 page
        s = make_session(retries=0)
        data, reason, n = fetch_cutout(s, fs.url + '/wrong', 120., 30.)
    assert data is None and reason == 'HTTP 404 Not Found' and n == 1


def test_sizes_below_64_are_asked_at_64_and_resampled_and_above_2048_refused(tmp_path):
    cat = make_catalog(4)
    with FakeSkyServer(cat) as fs:
        m = download_images(cat, tmp_path/'a', size=32, scale=0.296, workers=2, server=fs.url, progress=False, **FAST)
        q = [r['q'] for r in fs.log]
        m64 = download_images(cat, tmp_path/'b', size=64, scale=0.296, workers=2, server=fs.url, progress=False, **FAST)
        with pytest.raises(ValueError, match='at most 2048'):
            download_images(cat, tmp_path/'c', size=4096, scale=0.296, server=fs.url, progress=False)
        assert len(fs.log) == 8
    assert (m.status == 'ok').all() and (m64.status == 'ok').all() and (m.scale == 0.296).all()
    assert {(r['width'], r['height'], float(r['scale'])) for r in q} == {('64', '64', 0.148)}
    assert {Image.open(p).size for p in (tmp_path/'a').glob('*.jpg')} == {(32, 32)}
    assert valid_files(tmp_path/'a', 32) == set(cat.objID) and valid_files(tmp_path/'b', 64) == set(cat.objID)


def test_petro_scale_follows_each_galaxy_and_is_recorded(tmp_path):
    cat = make_catalog(6)
    cat.loc[[1, 4], 'petroR90_r'] = [np.nan, -9999.]
    with FakeSkyServer(cat) as fs:
        m = download_images(cat, tmp_path, workers=2, server=fs.url, progress=False, **FAST)  # scale='petro' by default
        asked = {r['key']: float(r['q']['scale']) for r in fs.log}
    expected = 2*cat.petroR90_r/0.396/128
    ok = m.status == 'ok'
    assert ok.tolist() == [True, False, True, True, False, True]
    assert m.reason[~ok].tolist() == ['no usable petroR90_r (needed by --scale petro)']*2 and (m.attempts[~ok] == 0).all()
    assert set(asked) == set(cat.objID[ok])  # rows without a Petrosian radius are never asked for
    assert [asked[i] for i in cat.objID[ok]] == pytest.approx(expected[ok].tolist())
    assert m.scale[ok].tolist() == pytest.approx(expected[ok].tolist()) and m.scale[~ok].isna().all()
    prov = load_json(tmp_path/'manifest.provenance.json')
    assert prov['scale'] == 'petro' and '2*petroR90_r/0.396/size' in prov['scale_rule']
    assert (prov['n_ok'], prov['n_failed'], prov['n_absent'], prov['stopped_early']) == (4, 2, 0, False)
    with pytest.raises(ValueError, match="no column 'petroR90_r', which --scale petro needs"):
        download_images(cat.drop(columns='petroR90_r'), tmp_path/'x', server=fs.url, progress=False)


def test_another_scale_into_the_same_directory_is_refused(tmp_path, capsys):
    cat = make_catalog(3)
    cat.to_csv(tmp_path/'cat.csv', index=False)
    args = ['download-images', '--catalog', str(tmp_path/'cat.csv'), '--out', str(tmp_path/'img'), '--no-progress']
    with FakeSkyServer(cat) as fs:
        assert run_command(args + ['--server', fs.url, '--scale', '0.296']) == 0
        n = len(fs.log)
        assert run_command(args + ['--server', fs.url]) == 1  # default --scale petro
        assert len(fs.log) == n
        assert run_command(args + ['--server', fs.url, '--scale', '0.296']) == 0
    err = capsys.readouterr().err
    assert 'were downloaded with --scale 0.296, not petro; pass --scale 0.296' in err and err.count('\n') == 1


def test_a_server_that_fails_every_request_stops_the_run_early(tmp_path):
    cat = make_catalog(40)
    with FakeSkyServer(cat, always='503') as fs:
        with pytest.raises(SkyServerError, match=r'stopped after 5 failed requests in a row \(the last: HTTP 503 Service Unavailable\)'):
            download_images(cat, tmp_path, scale=0.296, workers=2, server=fs.url, progress=False, max_failures=5,
                            timeout=2, retries=1, backoff=0.01)
        n_asked = len({r['key'] for r in fs.log})
    m = pd.read_csv(tmp_path/'manifest.csv', dtype={'objID': str})
    assert len(m) == 40 and 5 <= n_asked <= 5 + 2  # the streak, plus what the other worker had under way
    assert (m.reason == 'not attempted (stopped after 5 consecutive failures)').sum() == 40 - n_asked
    assert load_json(tmp_path/'manifest.provenance.json')['stopped_early'] is True


def test_failures_between_successes_do_not_stop_a_run(tmp_path):
    cat = make_catalog(12)
    faults = {o: ['500'] for o in cat.objID[::2]}  # every other galaxy fails: never two failures in a row
    with FakeSkyServer(cat, faults=faults) as fs:
        m = download_images(cat, tmp_path, workers=1, max_failures=2, server=fs.url, progress=False, **FAST)
        assert len(fs.log) == 12
    assert (m.status == 'failed').sum() == 6 and (m.status == 'ok').sum() == 6 and not m.reason.str.startswith('not attempted').any()


def test_a_dead_server_stops_the_cli_with_one_line(tmp_path, capsys):
    cat = make_catalog(30)
    cat.to_csv(tmp_path/'cat.csv', index=False)
    args = ['download-images', '--catalog', str(tmp_path/'cat.csv'), '--out', str(tmp_path/'img'), '--no-progress',
            '--server', closed_port_url(), '--retries', '1', '--backoff', '0.01', '--workers', '2', '--max-rate', '100']
    assert run_command(args) == 1  # default --max-failures 20
    out, err = capsys.readouterr()
    assert err.count('\n') == 1 and err.startswith('download-images: stopped after 20 failed requests in a row (the last: connection error')
    m = pd.read_csv(tmp_path/'img'/'manifest.csv', dtype={'objID': str})
    assert 20 <= m.reason.str.startswith('connection error').sum() <= 21  # the streak, and the other worker's request
    assert m.reason.str.startswith('not attempted (stopped after 20 consecutive failures)').sum() >= 9
    assert '30 rows: 0 ok' in out


def test_rate_cap_holds_with_retries(tmp_path):
    cat = make_catalog(40)
    faults = {cat.objID[i]: ['503'] for i in range(0, 40, 5)}
    with FakeSkyServer(cat, faults=faults) as fs:
        m = download_images(cat, tmp_path, workers=8, max_rate=20, server=fs.url, progress=False, **FAST)
        t = np.sort([r['t'] for r in fs.log])
    assert (m.status == 'ok').all() and len(t) == 48
    # requests in [t_i, t_i + 2 s): the limiter spaces the requests' slots, and a thread the OS delays after taking
    # its slot can arrive together with the next ones; over 2 s that jitter adds a request or two, not the 48 of no cap
    in_window = np.searchsorted(t, t + 2.0) - np.arange(len(t))
    assert in_window.max() <= 2*20 + 2
    assert t[-1] - t[0] >= 0.95 * 47/20


def test_retry_after_pauses_every_worker(tmp_path):
    cat = make_catalog(16)
    with FakeSkyServer(cat, retry_after=1, faults={cat.objID[0]: ['429']}) as fs:
        m = download_images(cat, tmp_path, workers=4, max_rate=50, server=fs.url, progress=False, **FAST)
        first, second = [r['t'] for r in fs.requests_for(cat.objID[0])]
        others = np.array([r['t'] for r in fs.log])
    assert (m.status == 'ok').all()
    assert second - first >= 0.95  # Retry-After: 1 honoured
    assert not ((others > first + 0.4) & (others < first + 0.9)).any()  # ... by every thread


def test_invalid_existing_files_are_fetched_again(tmp_path):
    cat = make_catalog(4)
    good = example_sample()/'images'/f'{cat.objID[0]}.jpg'
    (tmp_path/f'{cat.objID[0]}.jpg').write_bytes(good.read_bytes())
    (tmp_path/f'{cat.objID[1]}.jpg').write_bytes(good.read_bytes()[:500])  # truncated by some other tool
    with FakeSkyServer(cat) as fs:
        m = download_images(cat, tmp_path, workers=2, max_rate=50, server=fs.url, progress=False, **FAST)
        asked = {r['key'] for r in fs.log}
    assert m.reason.tolist() == ['present', 'downloaded', 'downloaded', 'downloaded']
    assert asked == set(cat.objID[1:]) and valid_files(tmp_path) == set(cat.objID)


CLI = [sys.executable, '-c', 'import signal; signal.signal(signal.SIGINT, signal.default_int_handler); '
       'from metallicity_cnn.cli import main; main()']


@pytest.mark.parametrize('sig', [signal.SIGKILL, signal.SIGINT])
def test_rerun_after_an_interrupted_run_fetches_only_what_is_missing(tmp_path, sig):
    cat = make_catalog(40)
    cat.to_csv(tmp_path/'cat.csv', index=False)
    out = tmp_path/'img'
    with FakeSkyServer(cat, latency=0.05) as fs:
        p = subprocess.Popen(CLI + ['download-images', '--catalog', str(tmp_path/'cat.csv'), '--out', str(out), '--server',
                                    fs.url, '--workers', '2', '--no-progress'],  # default cap: 10 images/s
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(list(out.glob('*.jpg'))) < 8 and time.monotonic() < deadline and p.poll() is None: time.sleep(0.02)
        p.send_signal(sig)
        rc = p.wait(30)
        have = valid_files(out)
        # a killed run leaves no partial JPEG under a final name
        assert {f.stem for f in out.glob('*.jpg')} == have and 8 <= len(have) < 40
        if sig == signal.SIGINT:
            assert rc == 130
            m = pd.read_csv(out/'manifest.csv', dtype={'objID': str})
            assert m.objID.tolist() == cat.objID.tolist()  # every row accounted for
            assert set(m.objID[m.status == 'ok']) <= have
            assert (m[m.status != 'ok'].reason == 'not attempted (interrupted)').sum() >= 1
        n_before = len(fs.log)
        m = download_images(tmp_path/'cat.csv', out, workers=4, max_rate=100, server=fs.url, progress=False, **FAST)
        asked = [r['key'] for r in fs.log[n_before:]]
    assert sorted(asked) == sorted(set(cat.objID) - have)  # only the missing ones, once each
    assert (m.status == 'ok').all() and set(m.objID[m.reason == 'present']) == have
    assert valid_files(out) == set(cat.objID)


def test_cli_exits_nonzero_and_a_rerun_retries(tmp_path, capsys):
    cat = make_catalog(6)
    cat.to_csv(tmp_path/'cat.csv', index=False)
    args = ['download-images', '--catalog', str(tmp_path/'cat.csv'), '--out', str(tmp_path/'img'), '--retries', '1',
            '--backoff', '0.01', '--timeout', '2', '--no-progress']
    with FakeSkyServer(cat, faults={cat.objID[2]: ['503', '503']}) as fs:
        assert run_command(args + ['--server', fs.url]) == 1
        out = capsys.readouterr()
        assert '1 failed: HTTP 503 Service Unavailable' in out.out and 'rerun the same command' in out.err
        assert run_command([a for a in args if a != '--no-progress'] + ['--server', fs.url]) == 0  # with a progress bar
        assert [r['key'] for r in fs.log[-1:]] == [cat.objID[2]]
    assert '5 already present, 1 downloaded' in capsys.readouterr().out


def test_catalog_errors_are_user_errors(tmp_path, capsys):
    make_catalog(3).drop(columns='ra').to_csv(tmp_path/'c.csv', index=False)
    assert run_command(['download-images', '--catalog', str(tmp_path/'c.csv'), '--out', str(tmp_path)]) == 1
    assert "no column 'ra'" in capsys.readouterr().err
    assert run_command(['download-images', '--catalog', str(tmp_path/'nope.csv'), '--out', str(tmp_path)]) == 1
    make_catalog(3).drop(columns='petroR90_r').to_csv(tmp_path/'d.csv', index=False)
    assert run_command(['download-images', '--catalog', str(tmp_path/'d.csv'), '--out', str(tmp_path)]) == 1
    assert 'such as --scale 0.296' in capsys.readouterr().err
    assert run_command(['download-images', '--catalog', str(tmp_path/'d.csv'), '--out', str(tmp_path), '--scale', 'big']) == 1
    assert "scale must be 'petro' or arcsec per pixel" in capsys.readouterr().err


def test_real_sample_images_pass_validation():
    files = sorted((example_sample()/'images').glob('*.jpg'))
    assert len(files) == 60 and all(check_jpeg(f.read_bytes()) is None for f in files)
