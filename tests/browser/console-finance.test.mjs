// Finance: payments of a date range with totals, the CSV export, a refund, and a
// reconciliation of today's WeChat Pay bill read in the console.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { stack, adminToken, seedTask, rosterWithXss, browser, shot, consoleLogin, api, staff,
  paidOrder, portrait, XSS_NAME } from './lib.mjs'

const b = await browser()
after(() => b.close())
const token = await adminToken()
const { task } = await seedTask(token, { csv: rosterWithXss() })
await staff(token, 'qian.finance', 'finance-pass-123', [{ role: 'finance', school_id: task.school_id }])
const one = await paidOrder(task, { student_no: '2020999102', name: XSS_NAME }, 'o_fin_1')
const two = await paidOrder(task, { student_no: '2020146101', name: '陈萱' }, 'o_fin_2', portrait('2'))

test('finance sees the payments with totals and exports them as CSV', async () => {
  const page = await b.page()
  await consoleLogin(page, 'qian.finance', 'finance-pass-123')
  assert.equal(await page.locator('[data-test=nav-staff]').count(), 0, 'finance has no staff screen')
  await page.click('[data-test=nav-finance]')
  await page.waitForFunction(() => document.querySelector('[data-test=finance-count]')?.textContent === '2')
  assert.equal(await page.textContent('[data-test=finance-total]'), '¥50.00')
  assert.ok((await page.content()).includes('&lt;img src=x onerror=alert(1)&gt;'), 'the name as text')
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=finance-export-csv]')])
  const csv = readFileSync(await download.path(), 'utf8')
  assert.ok(csv.startsWith('\ufeff'), 'a BOM for Excel')
  assert.ok(csv.includes(one.order_no) && csv.includes(two.order_no))
  assert.ok(csv.includes('25.00'))
  await shot(page, 'console-finance')
})

test('finance refunds part of a payment and sees the refund state', async () => {
  const page = await b.page()
  await page.locator('[data-test=finance-refund]').first().click()
  await page.fill('[data-test=refund-amount] input', '5')
  await page.fill('[data-test=refund-reason]', '重复拍摄费用退还')
  await page.click('[data-test=refund-submit]')
  await page.waitForSelector('[data-test=refund-result]')
  assert.match(await page.textContent('[data-test=refund-result]'), /¥5\.00.*(处理中|退款成功)/)
  await page.keyboard.press('Escape')
})

test('finance runs a reconciliation of today and reads the report', async () => {
  const page = await b.page()
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  await page.fill('[data-test=reconcile-date]', today)
  await page.click('[data-test=reconcile-run]')
  await page.waitForFunction(() => document.querySelector('[data-test=reconcile-state]')?.textContent === '已完成',
    null, { timeout: 90000 })
  assert.equal(await page.textContent('[data-test=reconcile-matched]'), '2')
  await page.locator('[data-test=reconcile-report]').scrollIntoViewIfNeeded()
  await shot(page, 'console-reconciliation')
  const r = await api('GET', `/finance/reconciliations/${today}`, { token })
  assert.equal(r.state, 'done')
  assert.deepEqual(b.problems, [])
})
