// Browser test: Debian's jupyter-notebook + headless Chromium (driven by playwright-core) run
// notebooks/01-quickstart.ipynb through the longconv4j kernel; asserts a PNG plot and an HTML table
// appear and no cell fails; saves a screenshot. No tensor shapes here.
//
// usage: node quickstart.mjs [--repo DIR] [--out FILE.png] [--timeout SECONDS]
// env:   JUPYTER_PATH  a share/jupyter directory holding the longconv4j kernelspec (if unset, the script
//                      installs one into a temporary prefix with `bin/longconv4j install --prefix`, which
//                      needs the packaged kernel jar)
//        LONGCONV4J_KERNEL  kernelspec name (default longconv4j)
//        CHROMIUM      browser executable (default /usr/bin/chromium)
//        JUPYTER_NOTEBOOK  server executable (default jupyter-notebook)
// Exit code 0 on success; 1 with a message on any failure (the screenshot is still written when possible).
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const repo = resolve(opt('--repo', join(here, '..', '..', '..', '..')));
const shot = resolve(opt('--out', join(repo, 'kernel', 'target', 'browser', 'quickstart.png')));
const timeoutMs = 1000 * Number(opt('--timeout', '300'));
const kernelName = process.env.LONGCONV4J_KERNEL || 'longconv4j';
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const serverExe = process.env.JUPYTER_NOTEBOOK || 'jupyter-notebook';
const log = (...m) => console.log('[browser-test]', ...m);

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

async function waitForServer(url, ms, proc) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error('jupyter-notebook exited with code ' + proc.exitCode);
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not up yet */ }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error('jupyter-notebook did not answer at ' + url + ' within ' + ms / 1000 + ' s');
}

const work = mkdtempSync(join(tmpdir(), 'longconv4j-browser-'));
const env = { ...process.env, JUPYTER_PLATFORM_DIRS: '1', JUPYTER_CONFIG_DIR: join(work, 'config'),
  JUPYTER_DATA_DIR: join(work, 'data'), JUPYTER_RUNTIME_DIR: join(work, 'runtime'), IPYTHONDIR: join(work, 'ipython') };
if (!env.JUPYTER_PATH) {
  const prefix = join(work, 'prefix');
  execFileSync(join(repo, 'bin', 'longconv4j'), ['install', '--prefix', prefix, '--name', kernelName], { stdio: 'inherit' });
  env.JUPYTER_PATH = join(prefix, 'share', 'jupyter');
}
// serve a copy: the notebook UI autosaves, and the committed notebook must stay as it is
const nbDir = join(work, 'notebooks');
mkdirSync(nbDir);
const nbName = '01-quickstart.ipynb';
const nb = JSON.parse(readFileSync(join(repo, 'notebooks', nbName), 'utf8'));
nb.metadata.kernelspec = { ...(nb.metadata.kernelspec || {}), name: kernelName };
for (const c of nb.cells) if (c.cell_type === 'code') { c.outputs = []; c.execution_count = null; }
writeFileSync(join(nbDir, nbName), JSON.stringify(nb, null, 1));

const version = execFileSync(serverExe, ['--version'], { env }).toString().trim();
const major = Number(version.split('.')[0]);
log('jupyter-notebook', version, major >= 7 ? '(Notebook 7, JupyterLab UI)' : '(classic notebook UI)');
const port = await freePort();
const token = randomBytes(24).toString('hex');
const server = spawn(serverExe, ['--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0',
  `--notebook-dir=${nbDir}`, ...(major >= 7 ? [`--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${nbDir}`]
    : [`--NotebookApp.token=${token}`, '--NotebookApp.password=']), '--log-level=WARN',
  ...(process.getuid && process.getuid() === 0 ? ['--allow-root'] : [])],
  { env, stdio: ['ignore', 'inherit', 'inherit'], detached: false });
const base = `http://127.0.0.1:${port}`;
let browser, page, failure;
try {
  await waitForServer(`${base}/api/status?token=${token}`, 60_000, server);
  browser = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: chromiumPath, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  page = browser.pages()[0] || await browser.newPage();
  page.on('pageerror', e => log('page error:', e.message));
  const url = major >= 7 ? `${base}/notebooks/${nbName}?token=${token}` : `${base}/notebooks/${nbName}?token=${token}`;
  log('opening', url.replace(token, '<token>'));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  let sel;
  if (major >= 7) {
    sel = { png: '.jp-OutputArea-output img[src^="data:image/png"]', table: '.jp-RenderedHTMLCommon table', error: '[data-mime-type="application/vnd.jupyter.stderr"] .jp-RenderedText pre:has-text("Error")' };
    await page.waitForSelector('.jp-Notebook', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null
      || document.querySelector('.jp-Toolbar-kernelStatus')?.textContent?.includes('Idle'), null, { timeout: 120_000 }).catch(() => {});
    await page.click('text=Run');
    await page.click('text=Run All Cells');
    await page.waitForFunction(() => [...document.querySelectorAll('.jp-InputArea-prompt')].every(p => !p.textContent.includes('*'))
      && [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].every(p => /\[\d+\]/.test(p.textContent)),
      null, { timeout: timeoutMs, polling: 500 });
  } else {
    sel = { png: 'div.output_png img[src^="data:image/png"]', table: 'div.output_html table', error: 'div.output_error' };
    await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.() === true, null, { timeout: 120_000 });
    log('kernel connected:', await page.evaluate(() => Jupyter.notebook.kernel.name));
    await page.click('#celllink');             // the Cell menu
    await page.click('#run_all_cells');        // Run All
    await page.waitForFunction(() => {
      const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code' && c.get_text().trim() !== '');
      return cells.length > 0 && cells.every(c => typeof c.input_prompt_number === 'number')
        && document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
    }, null, { timeout: timeoutMs, polling: 500 });
  }
  const pngs = await page.locator(sel.png).count();
  const tables = await page.locator(sel.table).count();
  const errors = await page.locator(sel.error).count();
  log(`outputs: ${pngs} PNG image(s), ${tables} HTML table(s), ${errors} error output(s)`);
  if (pngs < 1) throw new Error('no PNG plot (img with a data:image/png src) appeared');
  if (tables < 1) throw new Error('no rendered HTML table appeared');
  if (errors > 0) throw new Error(`${errors} cell(s) failed: ` + (await page.locator(sel.error).first().innerText()).slice(0, 2000));
  // bring the first plot into view for the screenshot
  await page.locator(sel.png).first().scrollIntoViewIfNeeded();
} catch (e) {
  failure = e;
} finally {
  if (page) {
    try {
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: false });
      log('screenshot', shot);
    } catch (e) { log('no screenshot:', e.message); }
  }
  if (browser) await browser.close().catch(() => {});
  try { await fetch(`${base}/api/shutdown?token=${token}`, { method: 'POST' }); } catch { /* already gone */ }
  await new Promise(r => setTimeout(r, 500));
  if (server.exitCode === null) server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
if (failure) {
  console.error('[browser-test] FAILED:', failure.message);
  process.exit(1);
}
log('OK');
