// A college user sees only their college: its roster and progress, read-only, and none of the
// other screens.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { adminToken, seedTask, rosterWithXss, browser, shot, consoleLogin, api, staff, XSS_NAME } from './lib.mjs'

const b = await browser()
after(() => b.close())
const token = await adminToken()
const { task } = await seedTask(token, { csv: rosterWithXss() })
await staff(token, 'sun.college', 'college-pass-123', [{ role: 'college', school_id: task.school_id, college: '文学院' }])

test('a college user sees only their college, read-only', async () => {
  const page = await b.page()
  await consoleLogin(page, 'sun.college', 'college-pass-123')
  for (const nav of ['nav-tasks', 'nav-review', 'nav-finance', 'nav-staff']) {
    assert.equal(await page.locator(`[data-test=${nav}]`).count(), 0, `${nav} is hidden`)
  }
  await page.click('[data-test=nav-roster]')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=roster-row]').length === 12)
  const colleges = await page.locator('[data-test=roster-row] td:nth-child(2)').allTextContents()
  assert.deepEqual([...new Set(colleges)], ['文学院'])
  assert.ok((await page.locator('[data-test=roster-name]').allTextContents()).includes(XSS_NAME))
  assert.equal(await page.locator('[data-test=roster-import-file]').count(), 0, 'no import')
  assert.equal(await page.locator('[data-test=roster-mark-offline]').count(), 0, 'no amendments')
  await page.selectOption('[data-test=roster-filter-state]', 'missing')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=roster-row]').length === 12)
  await shot(page, 'console-college-roster')
  await page.click('[data-test=nav-progress]')
  await page.waitForSelector('[data-test=progress-college]')
  assert.equal(await page.locator('[data-test=progress-college]').count(), 1)
  assert.equal(await page.textContent('[data-test=progress-total] b'), '12')
  await shot(page, 'console-college-progress')

  // The API holds the line too: another college's roster is refused.
  const tok = await page.evaluate(() => sessionStorage.getItem('portraitd.console.token'))
  const res = await api('GET', `/admin/tasks/${task.id}/roster?college=${encodeURIComponent('音乐学院')}`,
    { token: tok, raw: true })
  assert.equal(res.status, 403)
  assert.deepEqual(b.problems, [])
})
