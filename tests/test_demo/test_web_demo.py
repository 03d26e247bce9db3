"""demo/web_demo.py in a real browser: headless Chromium drives the page
from upload to downloaded masks, which must equal ``propagate_mask``'s."""
import io
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from web_demo_utils import CONFIG, NUM_FRAMES, REPO, SIZE, save_indexed

from mmhvc.apis import (init_model, propagate_mask, read_first_mask,
                        read_video)

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')


def require_browser():
    """Skip, saying why, where the browser test cannot run."""
    for module in ('flask', 'selenium'):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f'the browser test needs the Python package {module} '
                        '(pip install -r requirements/optional.txt selenium)')
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip('the browser test needs Chromium and its driver '
                    '(apt-get install chromium chromium-driver)')


@pytest.fixture
def web_demo(checkpoint, tmp_path):
    """The URL of a web demo server on a free port of 127.0.0.1."""
    require_browser()
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    log = tmp_path / 'server.log'
    with open(log, 'w') as out:
        process = subprocess.Popen(
            [
                sys.executable, 'demo/web_demo.py', CONFIG, checkpoint,
                '--port', '0', '--work-dir', str(tmp_path / 'work'),
                '--demo-root', str(tmp_path / 'no_demos')
            ],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = wait_for(
            lambda: process.poll() is not None or re.search(
                r'http://127\.0\.0\.1:\d+', log.read_text()),
            timeout=120, what='the server to start')
        if process.poll() is not None:
            pytest.fail('the web demo exited:\n' + log.read_text())
        yield url.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                 '--disable-gpu', '--window-size=1200,1500'):
        options.add_argument(flag)
    downloads = str(tmp_path / 'downloads')
    os.makedirs(downloads)
    options.add_experimental_option(
        'prefs', {'download.default_directory': downloads})
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd('Page.setDownloadBehavior',
                           dict(behavior='allow', downloadPath=downloads))
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for(condition, timeout=60., what='the page'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f'waited {timeout:.0f} s for {what}')


def read_masks(path):
    """Frame name -> ids of a zip of indexed PNGs."""
    with zipfile.ZipFile(path) as f:
        return {
            osp.splitext(name)[0]:
            np.asarray(Image.open(io.BytesIO(f.read(name))))
            for name in f.namelist()
        }


def run_and_download(browser, find, button=None):
    """Press Propagate (or ``button``), wait for the result and download
    the masks."""
    from selenium.webdriver.common.by import By
    link = find(By.ID, 'download-masks')
    before = link.get_attribute('href')
    (button or find(By.ID, 'run')).click()
    wait_for(lambda: link.get_attribute('href') != before and
             find(By.ID, 'step-result').is_displayed(),
             what='the propagation to finish')
    assert 'done' in find(By.ID, 'progress-text').text
    assert find(By.ID, 'progress').get_attribute('value') == str(NUM_FRAMES)
    find(By.ID, 'download-masks').click()
    archive = osp.join(browser.downloads, 'masks.zip')
    wait_for(lambda: osp.isfile(archive), what='the masks download')
    masks = read_masks(archive)
    os.remove(archive)
    assert sorted(masks) == [f'{t:05d}' for t in range(NUM_FRAMES)]
    return np.stack([masks[f'{t:05d}'] for t in range(NUM_FRAMES)])


def brush(browser, canvas, points):
    """Drag the mouse through frame pixels ``points`` ``(x, y)``."""
    from selenium.webdriver.common.action_chains import ActionChains
    scale = canvas.size['width'] / SIZE[1]

    def offset(x, y):
        # from the canvas centre, in CSS pixels, to the pixel's centre
        return (round((x + 0.5) * scale - canvas.size['width'] / 2),
                round((y + 0.5) * scale - canvas.size['height'] / 2))

    actions = ActionChains(browser)
    actions.move_to_element_with_offset(canvas, *offset(*points[0]))
    actions.click_and_hold()
    for point in points[1:]:
        actions.move_to_element_with_offset(canvas, *offset(*point))
    actions.release().perform()


def test_paint_or_upload_mask_run_download_in_chromium(
        web_demo, browser, clip, checkpoint, tmp_path):
    from selenium.webdriver.common.by import By
    video, mask_png, first_mask = clip
    model = init_model(CONFIG, checkpoint)
    frames, _ = read_video(video)
    browser.get(web_demo)
    find = browser.find_element
    assert 'random.pth' in find(By.ID, 'model-info').text

    find(By.ID, 'video-file').send_keys(video)
    wait_for(lambda: f'{NUM_FRAMES} frames' in find(By.ID, 'video-info').text,
             what='the video to be read')

    # two objects painted with the brush (6 frame pixels wide)
    canvas = find(By.ID, 'paint-canvas')
    brush(browser, canvas, [(12, 14), (16, 14), (20, 14)])
    find(By.ID, 'add-object').click()
    brush(browser, canvas, [(36, 44), (40, 44)])
    masks = run_and_download(browser, find)
    painted = masks[0]
    assert set(np.unique(painted)) == {0, 1, 2}
    assert (painted[14, 12:21] == 1).all() and (painted[44, 36:41] == 2).all()
    assert painted[14, 26] == painted[6, 16] == painted[44, 46] == 0
    np.testing.assert_array_equal(masks,
                                  propagate_mask(model, frames, painted))

    # the mask PNG instead
    find(By.CSS_SELECTOR, 'input[name="mask-source"][value="file"]').click()
    find(By.ID, 'mask-file').send_keys(mask_png)
    masks = run_and_download(browser, find)
    np.testing.assert_array_equal(masks,
                                  propagate_mask(model, frames, first_mask))

    # a mask of half the size: a message on the page offers the resize
    small = str(tmp_path / 'small.png')
    save_indexed(small, first_mask[::2, ::2])
    find(By.ID, 'mask-file').send_keys(small)
    find(By.ID, 'run').click()
    message = find(By.ID, 'message')
    wait_for(lambda: message.is_displayed() and 'small.png is 32x32' in
             message.text, what='the message about the mask size')
    action = find(By.ID, 'message-action')
    assert action.text == 'Resize the mask and run'
    masks = run_and_download(browser, find, action)
    resized, _ = read_first_mask(small, size=SIZE)
    np.testing.assert_array_equal(masks,
                                  propagate_mask(model, frames, resized))

    browser.execute_script(
        'const s = document.getElementById("frame-slider");'
        's.value = 3; s.dispatchEvent(new Event("input"));')
    frame = find(By.ID, 'overlay-frame')
    wait_for(lambda: frame.get_attribute('src').endswith('/frame/3') and
             browser.execute_script(
                 'return arguments[0].complete && arguments[0].naturalWidth',
                 frame), what='frame 3 of the overlay')
    assert find(By.ID, 'frame-index').text == '3'
    frame.click()
    wait_for(lambda: find(By.ID, 'heatmap-box').is_displayed(),
             what='the correspondence heat map')
    screenshot = str(tmp_path / 'web_demo.png')
    assert browser.save_screenshot(screenshot)
    assert Image.open(screenshot).size[0] > 0
