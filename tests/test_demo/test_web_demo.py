"""demo/web_demo.py in a real browser: headless Chromium drives the Gradio
page through painting, propagating, correcting a middle frame and
propagating again, and a backward run from a middle frame; the downloaded
masks must equal :func:`mmhvc.apis.propagate_masks` on the same inputs.

Set ``WEB_DEMO_SCREENSHOTS`` to a folder to keep the screenshots of both
states there (``docs/figures`` holds those of docs/demo.md).
"""
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
from web_demo_utils import CONFIG, REPO

from mmhvc.apis import (init_model, propagate_masks, read_first_mask,
                        read_video)

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
#: The demo videos the server generates: 16 frames of 96 x 160.
NUM_FRAMES, SIZE = 16, (96, 160)
#: What the page propagates with unless told otherwise.
PAGE_SHORT_SIDE = 480


def require_browser():
    """Skip, saying why, where the browser test cannot run."""
    for module in ('gradio', 'selenium'):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f'the browser test needs the Python package {module} '
                        '(pip install -r requirements/optional.txt selenium)')
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip('the browser test needs Chromium and its driver '
                    '(apt-get install chromium chromium-driver)')


@pytest.fixture(scope='module')
def web_demo(checkpoint, tmp_path_factory):
    """``(url, demo root)`` of a web demo server on a free port of
    127.0.0.1, with generated demo videos."""
    require_browser()
    tmp_path = tmp_path_factory.mktemp('web_demo')
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
            timeout=180, what='the server to start')
        if process.poll() is not None:
            pytest.fail('the web demo exited:\n' + log.read_text())
        yield url.group(0), str(tmp_path / 'work' / 'demo_davis')
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
                 '--window-size=1300,2100'):
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


def wait_for(condition, timeout=120., what='the page'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f'waited {timeout:.0f} s for {what}')


def css(browser, selector):
    from selenium.webdriver.common.by import By
    return browser.find_element(By.CSS_SELECTOR, selector)


def text_of(browser, elem_id):
    return css(browser, f'#{elem_id}').text


def open_demo(browser, url, name):
    from selenium.webdriver.common.by import By
    browser.get(url)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                           '#demo-name label'),
             what='the page to load')
    for label in browser.find_elements(By.CSS_SELECTOR, '#demo-name label'):
        if label.text == name:
            label.click()
    css(browser, '#open-video').click()
    wait_for(lambda: f'{NUM_FRAMES} frames' in text_of(browser, 'video-info'),
             what='the video to open')


def go_to_frame(browser, t):
    from selenium.webdriver.common.keys import Keys
    box = css(browser, '#frame-slider input[type="number"]')
    box.send_keys(Keys.CONTROL, 'a')
    box.send_keys(str(t), Keys.TAB)
    time.sleep(1.5)  # the editor reloads the frame


def upload_mask(browser, path):
    css(browser, '#mask-file input[type="file"]').send_keys(path)
    wait_for(lambda: 'Start frame' in text_of(browser, 'video-info'),
             what='the uploaded mask')
    time.sleep(1)


def paint(browser, points):
    """Drag the brush (object 1's colour) through frame pixels ``points``
    ``(x, y)``; the canvas shows the frame centred, zoomed 3 times."""
    from selenium.webdriver.common.action_chains import ActionChains
    css(browser, '#editor button[aria-label="Brush"]').click()
    canvas = browser.find_elements('css selector', '#editor canvas')[-1]
    zoom = int(css(browser, '#editor .zoom-number').text.rstrip('%')) / 100

    def offset(x, y):
        return (round((x + 0.5 - SIZE[1] / 2) * zoom),
                round((y + 0.5 - SIZE[0] / 2) * zoom))

    actions = ActionChains(browser)
    actions.move_to_element_with_offset(canvas, *offset(*points[0]))
    actions.click_and_hold()
    for point in points[1:]:
        actions.move_to_element_with_offset(canvas, *offset(*point))
    actions.release().perform()
    time.sleep(0.5)


def propagate_and_download(browser):
    """Press Propagate, wait for the run and download its masks."""
    before = text_of(browser, 'status')
    css(browser, '#run').click()
    wait_for(lambda: text_of(browser, 'status') != before and
             text_of(browser, 'status').startswith('Done'),
             what='the propagation to finish')
    link = wait_for(lambda: [
        a for a in browser.find_elements('css selector',
                                         '#download-masks a')
        if a.get_attribute('href')
    ], what='the masks link')[0]
    link.click()
    archive = osp.join(browser.downloads, 'masks.zip')
    wait_for(lambda: osp.isfile(archive), what='the masks download')
    time.sleep(0.5)
    with zipfile.ZipFile(archive) as f:
        masks = {
            osp.splitext(name)[0]:
            np.asarray(Image.open(io.BytesIO(f.read(name))))
            for name in f.namelist()
        }
    os.remove(archive)
    assert sorted(masks) == [f'{t:05d}' for t in range(NUM_FRAMES)]
    return np.stack([masks[f'{t:05d}'] for t in range(NUM_FRAMES)])


def demo_inputs(root, name):
    frames, _ = read_video(osp.join(root, 'JPEGImages', '480p', name))
    masks = [
        read_first_mask(
            osp.join(root, 'Annotations', '480p', name, f'{t:05d}.png'))[0]
        for t in range(NUM_FRAMES)
    ]
    return frames, masks


def page_settings(model):
    propagator = model.propagator
    return dict(
        context_size=propagator.context_size,
        topk=propagator.topk,
        radius=propagator.radius,
        temperature=propagator.temperature)


def screenshot(browser, name, tmp_path):
    folder = os.environ.get('WEB_DEMO_SCREENSHOTS', str(tmp_path))
    path = osp.join(folder, name)
    assert browser.save_screenshot(path)
    assert Image.open(path).size[0] > 0


def test_paint_propagate_correct_and_propagate_again(
        web_demo, browser, checkpoint, tmp_path):
    url, root = web_demo
    model = init_model(CONFIG, checkpoint)
    frames, truth = demo_inputs(root, 'demo00')
    open_demo(browser, url, 'demo00')
    assert 'random.pth' in text_of(browser, 'model-info')
    assert 'Start frame 0' in text_of(browser, 'video-info')

    # a stroke of object 1 over frame 0's mask, 6 frame pixels wide
    paint(browser, [(30, 80), (45, 80), (60, 80)])
    first = propagate_and_download(browser)
    assert 'Done: 16 frames' in text_of(browser, 'status')
    painted = first[0]
    assert (painted[80, 32:59] == 1).all()
    np.testing.assert_array_equal(painted[:70], truth[0][:70])
    settings = page_settings(model)
    np.testing.assert_array_equal(
        first,
        propagate_masks(model, frames, {0: painted}, settings=settings,
                        short_side=PAGE_SHORT_SIDE))

    # correct frame 8 with its true mask, propagate again from there
    go_to_frame(browser, 8)
    upload_mask(browser,
                osp.join(root, 'Annotations', '480p', 'demo00', '00008.png'))
    assert 'corrected frames [8]' in text_of(browser, 'video-info')
    again = propagate_and_download(browser)
    assert 'Done: 8 frames' in text_of(browser, 'status')
    np.testing.assert_array_equal(again[:8], first[:8])
    np.testing.assert_array_equal(again[8], truth[8])
    np.testing.assert_array_equal(
        again,
        propagate_masks(model, frames, {0: painted, 8: truth[8]},
                        settings=settings, short_side=PAGE_SHORT_SIDE))

    # the heat map of a point of frame 8
    css(browser, '#result-frame img').click()
    wait_for(lambda: browser.find_elements('css selector', '#heatmap img'),
             what='the correspondence heat map')
    screenshot(browser, 'web_demo.png', tmp_path)


def test_annotate_a_middle_frame_and_propagate_backward(
        web_demo, browser, checkpoint, tmp_path):
    url, root = web_demo
    model = init_model(CONFIG, checkpoint)
    frames, truth = demo_inputs(root, 'demo01')
    open_demo(browser, url, 'demo01')
    css(browser, '#clear').click()
    wait_for(lambda: 'Paint the objects' in text_of(browser, 'video-info'),
             what='the annotations to be cleared')
    go_to_frame(browser, 10)
    upload_mask(browser,
                osp.join(root, 'Annotations', '480p', 'demo01', '00010.png'))
    assert 'Start frame 10' in text_of(browser, 'video-info')
    for label in browser.find_elements('css selector', '#direction label'):
        if label.text == 'backward':
            label.click()
    masks = propagate_and_download(browser)
    assert 'Done: 11 frames' in text_of(browser, 'status')
    assert not masks[11:].any()
    np.testing.assert_array_equal(masks[10], truth[10])
    np.testing.assert_array_equal(
        masks,
        propagate_masks(model, frames, {10: truth[10]}, 'backward',
                        settings=page_settings(model),
                        short_side=PAGE_SHORT_SIDE))
    screenshot(browser, 'web_demo_backward.png', tmp_path)
