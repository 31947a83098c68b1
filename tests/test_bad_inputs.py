"Every kind of bad catalogue row is an error naming the problem, or an exclusion that is counted and reported."
import json, shutil
import numpy as np, pandas as pd, pytest
from conftest import cli

@pytest.fixture
def bad_set(catalog, sample, tmp_path):
    "60 real galaxies with: 2 NaN targets, 1 sentinel, 1 missing image, 1 corrupt image, 2 images of another size"
    from PIL import Image
    imgs = tmp_path/'images'; imgs.mkdir()
    cat = catalog.head(60).copy().reset_index(drop=True)
    for i in cat.objID: shutil.copy(sample/'images'/f'{i}.jpg', imgs)
    cat.loc[[0, 1], 'oh_p50'] = np.nan
    cat.loc[2, 'oh_p50'] = -9999
    (imgs/f'{cat.objID[3]}.jpg').unlink()
    (imgs/f'{cat.objID[4]}.jpg').write_bytes((sample/'images'/f'{cat.objID[4]}.jpg').read_bytes()[:500])
    for j in (5, 6): Image.open(sample/'images'/f'{cat.objID[j]}.jpg').resize((100, 100)).save(imgs/f'{cat.objID[j]}.jpg')
    cat.to_csv(tmp_path/'cat.csv', index=False)
    return cat, imgs, tmp_path

def test_exclusions_are_counted_and_reported(bad_set):
    cat, imgs, tmp = bad_set
    r = cli('train', '--catalog', tmp/'cat.csv', '--images', imgs, '--out', tmp/'run', '--recipe', 'tiny', '--size', 64)
    assert '60 rows read, 55 kept, 5 excluded' in r.stdout
    assert "3 rows excluded: target 'oh_p50' is NaN or -9999" in r.stdout
    assert f'1 rows excluded: image missing ({cat.objID[3]})' in r.stdout
    assert f'1 rows excluded: image unreadable ({cat.objID[4]})' in r.stdout
    meta = json.loads((tmp/'run'/'model.json').read_text())
    assert meta['catalog']['n_kept'] == 55 and meta['catalog']['missing_images'] == [cat.objID[3]]
    assert meta['catalog']['n_resized'] == 55 and 'resampled' not in r.stdout # 2 at 100 px, 53 at 128 px, all to 64 px: normal, counted, not a warning
    split = pd.read_csv(tmp/'run'/'split.csv', dtype={'objID': str})
    assert len(split) == 55 and not set(cat.objID[:5]) & set(split.objID)

def test_wrong_size_images_are_resampled(bad_set):
    cat, imgs, tmp = bad_set
    from metallicity_cnn.data import load_image
    cli('train', '--catalog', tmp/'cat.csv', '--images', imgs, '--out', tmp/'run', '--recipe', 'tiny', '--size', 128, '--epochs', 1)
    assert json.loads((tmp/'run'/'model.json').read_text())['catalog']['n_resized'] == 2
    small = load_image(imgs/f'{cat.objID[5]}.jpg', 128) # a 100 px image, read at the model's 128 px
    assert small.shape == (3, 128, 128) and abs(small.astype(float).mean() - load_image(imgs/f'{cat.objID[5]}.jpg', 100).astype(float).mean()) < 2

@pytest.mark.parametrize('change,message', [
    (lambda c: c.drop(columns='oh_p50'), "catalog has no column 'oh_p50'"),
    (lambda c: c.rename(columns={'objID': 'id'}), "catalog has no column 'objID'"),
    (lambda c: pd.concat([c, c.iloc[[7, 8]]]), "2 duplicate ids in 'objID'"),
])
def test_catalog_errors(bad_set, change, message):
    cat, imgs, tmp = bad_set
    change(cat).to_csv(tmp/'c2.csv', index=False)
    r = cli('train', '--catalog', tmp/'c2.csv', '--images', imgs, '--out', tmp/'run', '--recipe', 'tiny', check=False)
    assert r.returncode == 1 and message in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp/'run').exists()

def test_duplicate_ids_are_listed(bad_set):
    cat, imgs, tmp = bad_set
    pd.concat([cat, cat.iloc[[7]]]).to_csv(tmp/'c3.csv', index=False)
    r = cli('train', '--catalog', tmp/'c3.csv', '--images', imgs, '--out', tmp/'run', check=False)
    assert cat.objID[7] in r.stderr

def test_other_target_column_name(bad_set):
    cat, imgs, tmp = bad_set
    r = cli('train', '--catalog', tmp/'cat.csv', '--images', imgs, '--out', tmp/'run', '--target', 'oh_p84', check=False)
    assert "no column 'oh_p84'; pass --target" in r.stderr

def test_predict_skips_corrupt_jpeg(run_dir, bad_set):
    cat, imgs, tmp = bad_set
    r = cli('predict', '--model', run_dir, '--images', imgs, '--out', tmp/'p.csv')
    p = pd.read_csv(tmp/'p.csv', dtype={'objID': str})
    assert len(p) == 58 and cat.objID[4] not in set(p.objID)   # 59 files, one corrupt
    assert '1 of 59 images could not be read and were skipped' in r.stdout
    assert cat.objID[4] in r.stderr
