// Shared helpers of the browser tests: the stack bt_stack started (stack.json), API and
// sandbox calls to seed data, and Debian's Chromium driven by playwright-core.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, X509Certificate } from 'node:crypto'
import { createRequire } from 'node:module'

// playwright-core is installed in web/node_modules by web/package.json (scripts/web.sh).
const { chromium } = createRequire(new URL('../../web/package.json', import.meta.url))('playwright-core')

export const stack = JSON.parse(readFileSync(process.env.PORTRAITD_STACK, 'utf8'))
export const fixture = (p) => join(stack.fixtures, p)
export const XSS_NAME = '<img src=x onerror=alert(1)>'
export const SCHOOL = { code: '10402', name: '演示师范大学' }

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function until(what, fn, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

// ---- the API and the sandbox, for seeding and for checking what the pages did ----

export async function api(method, path, { token, body, headers = {}, raw = false } = {}) {
  const h = { ...headers }
  if (token) h.Authorization = `Bearer ${token}`
  let payload = body
  if (body !== undefined && !(body instanceof FormData) && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    h['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const res = await fetch(`${stack.base}/api/v1${path}`, { method, headers: h, body: payload })
  if (raw) return res
  const text = await res.text()
  const json = text ? JSON.parse(text) : null
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return json
}

export async function sandbox(method, path, body) {
  const res = await fetch(`${stack.sandbox}${path}`, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

export async function login(username, password) {
  return (await api('POST', '/admin/login', { body: { username, password } })).token
}
export const adminToken = () => login(stack.admin.username, stack.admin.password)

export async function staff(token, username, password, roles) {
  return api('POST', '/admin/staff', { token, body: { username, password, roles } })
}

// A school, an open task and (when csv is given) its roster; returns {school, task}.
export async function seedTask(token, { feature = 'evhx53', name = '2024届毕业生图像采集', csv } = {}) {
  let school = (await api('GET', '/admin/schools', { token })).items.find((s) => s.code === SCHOOL.code)
  if (!school) school = await api('POST', '/admin/schools', { token, body: SCHOOL })
  const bj = (d) => new Date(Date.now() + d * 1000 + 8 * 3600e3).toISOString().slice(0, 19) + '+08:00'
  const task = await api('POST', '/admin/tasks', {
    token, body: { name, school: SCHOOL.code, collection_type: 'scattered', feature_code: feature,
      opens_at: bj(-3600), closes_at: bj(30 * 86400), price_fen: 2500, edit_days: 7,
      roster_required: true },
  })
  if (csv) {
    await api('POST', `/admin/tasks/${task.id}/roster`,
      { token, body: csv, headers: { 'Content-Type': 'text/csv' } })
  }
  return { school, task }
}

// The notice's 101 students plus one whose name is markup (rendered as text everywhere).
export function rosterWithXss() {
  const base = readFileSync(fixture('roster/roster-101-utf8.csv'), 'utf8').replace(/\s+$/, '')
  return `${base}\n102,文学院,${XSS_NAME},2020999102,20汉语言A班\n`
}

export async function wxStudent(openid, realName) {
  const { code } = await sandbox('POST', '/__sandbox/login-code', { openid })
  const { token } = await api('POST', '/auth/wx-login', { body: { code } })
  await api('PUT', '/me/profile', { token, body: { real_name: realName } })
  return token
}

export async function collectionCode(student, task) {
  return sandbox('POST', '/__sandbox/collection-code', {
    student_no: student.student_no, name: student.name, school_code: SCHOOL.code,
    school: SCHOOL.name, id_no: '110101200201011234', major: '汉语言文学', level: '本科', grad_year: 2024,
  })
}

export function photoForm(path) {
  const fd = new FormData()
  fd.append('file', new Blob([readFileSync(path)], { type: 'image/jpeg' }), 'photo.jpg')
  return fd
}
export const portrait = (n = '') => join(stack.demo_dir, `portrait-good${n ? `-${n}` : ''}.jpg`)

// A student of the roster with a paid order (pending_review) made through the API and the
// sandbox, as the mini-program would. Returns {token, order_no}.
export async function paidOrder(task, student, openid, photo = portrait()) {
  const token = await wxStudent(openid, /^[\p{L} ·.'’-]+$/u.test(student.name) ? student.name : '测试学生')
  await api('POST', '/tasks/bind', { token, body: { collection_type: 'scattered', feature_code: task.feature_code } })
  const { code } = await collectionCode(student, task)
  const cand = await api('POST', `/tasks/${task.id}/collection-code`, { token, body: { code } })
  const { order } = await api('POST', `/tasks/${task.id}/confirm`, { token, body: { candidate_id: cand.candidate_id } })
  await api('PUT', `/orders/${order.order_no}/photo`, { token, body: photoForm(photo) })
  await api('POST', `/orders/${order.order_no}/pay`, { token })
  await sandbox('POST', '/__sandbox/pay', { out_trade_no: order.order_no })
  await until('the payment notification', async () =>
    (await api('GET', `/orders/${order.order_no}`, { token })).status === 'pending_review')
  return { token, order_no: order.order_no }
}

// ---- the browser ----

function spki(pemPath) {
  const der = new X509Certificate(readFileSync(pemPath)).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}

// Debian's Chromium (nothing downloaded), headless, a fresh profile, trusting exactly the
// test server's key. Every page records script errors, CSP violations and dialogs: a roster
// name such as <img src=x onerror=alert(1)> must never run.
export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), 'pcbt-'))
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spki(stack.cert)}`],
  })
  const problems = []
  ctx.on('page', (p) => watch(p, problems))
  for (const p of ctx.pages()) watch(p, problems)
  return {
    ctx,
    problems,
    // The one tab of this browser (tests of a file continue where the last one stopped).
    async page() {
      return ctx.pages()[0] || await ctx.newPage()
    },
    async close() {
      await ctx.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

function watch(page, problems) {
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}) })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`csp: ${m.text()}`)
  })
}

export async function shot(page, name) {
  await page.screenshot({ path: join(stack.screenshots, `${name}.png`), fullPage: false })
}

export async function consoleLogin(page, username, password) {
  await page.goto(`${stack.base}/console/`)
  await page.fill('[data-test=login-username]', username)
  await page.fill('[data-test=login-password]', password)
  await page.click('[data-test=login-submit]')
  await page.waitForSelector('[data-test=logout]')
}
