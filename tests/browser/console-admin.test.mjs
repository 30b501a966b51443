// The school admin in the console: imports the notice's roster by file and sees its 101
// students; filters, the "still missing" list and the progress chart; a roster name that is
// markup shows as text; creates a reviewer account; reads the audit log and the outbox;
// logs out; a token that stops working sends them back to the login page with a message.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { stack, fixture, adminToken, seedTask, browser, shot, consoleLogin, api, XSS_NAME } from './lib.mjs'

const b = await browser()
after(() => b.close())
const token = await adminToken()
const { task } = await seedTask(token)

test('the console is served with a strict CSP, no-cache HTML and long-cached hashed assets', async () => {
  const res = await fetch(`${stack.base}/console/`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/html/)
  assert.equal(res.headers.get('cache-control'), 'no-cache')
  const csp = res.headers.get('content-security-policy')
  assert.match(csp, /script-src 'self'/)
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/)
  const html = await res.text()
  const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1]
  const asset = await fetch(`${stack.base}${js}`)
  assert.equal(asset.status, 200)
  assert.match(asset.headers.get('content-type'), /^text\/javascript/)
  assert.match(asset.headers.get('cache-control'), /max-age=31536000/)
  assert.equal((await fetch(`${stack.base}/assets/..%2Fconsole%2Findex.html`)).status, 404)
  assert.equal((await fetch(`${stack.base}/console`, { redirect: 'manual' })).status, 301)
})

test('admin imports the 101-student roster by file and sees 101 students', async () => {
  const page = await b.page()
  await consoleLogin(page, stack.admin.username, stack.admin.password)
  await shot(page, 'console-admin-home')
  await page.click('[data-test=nav-roster]')
  await page.waitForSelector('[data-test=roster-import-file]', { state: 'attached' })
  await page.setInputFiles('[data-test=roster-import-file]', fixture('roster/roster-101-gb18030.csv'))
  await page.waitForSelector('[data-test=roster-import-result]')
  assert.match(await page.textContent('[data-test=roster-import-result]'), /新增 101 人/)
  assert.match(await page.textContent('[data-test=roster-import-encoding]'), /GB18030|GBK/i)
  await page.waitForFunction(() => document.querySelectorAll('[data-test=roster-row]').length === 101)
  assert.equal(await page.locator('[data-test=roster-row]').count(), 101)
  assert.match(await page.textContent('[data-test=roster-total]'), /101/)
  await shot(page, 'console-roster-imported')

  // Rejected lines come back with their line numbers and reasons.
  await page.setInputFiles('[data-test=roster-import-file]', fixture('roster/roster-mixed-errors.csv'))
  await page.waitForSelector('[data-test=roster-rejected-row]')
  assert.ok(await page.locator('[data-test=roster-rejected-row]').count() >= 1)
  await shot(page, 'console-roster-rejected-lines')

  // Filters: one college; the still-missing list.
  await page.selectOption('[data-test=roster-filter-college]', '文学院')
  await page.waitForFunction(() => [...document.querySelectorAll('[data-test=roster-row] td:nth-child(2)')]
    .every((td) => td.textContent === '文学院') && document.querySelectorAll('[data-test=roster-row]').length > 0)
  await page.selectOption('[data-test=roster-filter-college]', '')
  await page.selectOption('[data-test=roster-filter-state]', 'missing')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=roster-row]').length >= 101)
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=roster-export-csv]')])
  const csv = readFileSync(await download.path(), 'utf8')
  assert.ok(csv.startsWith('\ufeff序号,学院,姓名'))
  assert.ok(csv.includes('陈萱'))
})

test('a roster name that is markup is shown as those characters, never run', async () => {
  const csv = `序号,学院,姓名,学号,班级\n102,文学院,${XSS_NAME},2020999102,20汉语言A班\n`
  await api('POST', `/admin/tasks/${task.id}/roster`, { token, body: csv, headers: { 'Content-Type': 'text/csv' } })
  const total = (await api('GET', `/admin/tasks/${task.id}/stats`, { token })).total
  const page = await b.page()
  await page.click('[data-test=nav-progress]')
  await page.click('[data-test=nav-roster]')
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=roster-row]').length === n, total)
  const names = await page.locator('[data-test=roster-name]').allTextContents()
  assert.ok(names.includes(XSS_NAME), 'the name is shown literally')
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element was made from the name')
  await page.click('[data-test=nav-progress]')
  await page.waitForSelector('[data-test=progress-college]')
  assert.equal(await page.textContent('[data-test=progress-total] b'), String(total))
  await shot(page, 'console-progress')
  assert.deepEqual(b.problems, [])
})

test('admin creates a reviewer account with a task scope; the audit log shows it', async () => {
  const page = await b.page()
  await page.click('[data-test=nav-staff]')
  await page.click('[data-test=staff-new]')
  await page.fill('[data-test=staff-form-username]', 'li.reviewer')
  await page.fill('[data-test=staff-form-password]', 'reviewer-pass-123')
  await page.fill('[data-test=staff-form-display]', '李老师')
  await page.selectOption('[data-test=staff-form-role]', 'reviewer')
  await page.selectOption('[data-test=staff-form-task]', String(task.id))
  await page.click('[data-test=staff-form-save]')
  await page.waitForFunction(() => [...document.querySelectorAll('[data-test=staff-username]')]
    .some((e) => e.textContent === 'li.reviewer'))
  await shot(page, 'console-staff')
  const list = await api('GET', '/admin/staff', { token })
  const li = list.items.find((s) => s.username === 'li.reviewer')
  assert.deepEqual(li.roles.map((r) => [r.role, r.task_id]), [['reviewer', task.id]])
  await page.click('[data-test=nav-audit]')
  await page.waitForFunction(() => [...document.querySelectorAll('[data-test=audit-action]')]
    .some((e) => e.textContent === 'staff.create'))
  await page.click('[data-test=nav-outbox]')
  await page.waitForSelector('[data-test=outbox-state]')
  await page.click('[data-test=nav-tasks]')
  await page.waitForSelector('[data-test=task-name]')
  await shot(page, 'console-tasks')
})

test('an expired or revoked token sends the admin back to the login page with a message', async () => {
  const page = await b.page()
  const tok = await page.evaluate(() => sessionStorage.getItem('portraitd.console.token'))
  await api('POST', '/admin/logout', { token: tok }) // the session ends elsewhere
  await page.click('[data-test=nav-roster]')
  await page.waitForSelector('[data-test=login-notice]')
  assert.match(await page.textContent('[data-test=login-notice]'), /重新登录/)
  await consoleLogin(page, stack.admin.username, stack.admin.password)
  await page.click('[data-test=logout]')
  await page.waitForSelector('[data-test=login-submit]')
  assert.equal(await page.evaluate(() => sessionStorage.getItem('portraitd.console.token')), null)
  assert.deepEqual(b.problems, [])
})
