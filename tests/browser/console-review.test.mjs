// The reviewer: the queue with the standard and the original photo side by side, the stored
// checks and the reason catalogue; rejects with a reason (keyboard shortcut); when another
// reviewer got there first, a clear message and the next photo; the student replaces the
// rejected photo and the reviewer approves it. A student name that is markup shows as text.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { stack, adminToken, seedTask, rosterWithXss, browser, shot, consoleLogin, api, staff,
  paidOrder, photoForm, portrait, login, until, XSS_NAME } from './lib.mjs'

const b = await browser()
after(() => b.close())
const token = await adminToken()
const { task } = await seedTask(token, { csv: rosterWithXss() })
await staff(token, 'wang.reviewer', 'reviewer-pass-123', [{ role: 'reviewer', school_id: task.school_id }])
await staff(token, 'zhao.reviewer', 'reviewer-pass-456', [{ role: 'reviewer', school_id: task.school_id }])
const xss = await paidOrder(task, { student_no: '2020999102', name: XSS_NAME }, 'o_review_xss')
const chen = await paidOrder(task, { student_no: '2020146101', name: '陈萱' }, 'o_review_chen', portrait('3'))

test('reject with a reason, another reviewer first (409), the replaced photo approved', async () => {
  const page = await b.page()
  await consoleLogin(page, 'wang.reviewer', 'reviewer-pass-123')
  await page.click('[data-test=nav-review]')
  const item = page.locator('[data-test=review-item]')
  await item.waitFor()
  assert.equal(await item.getAttribute('data-order-no'), xss.order_no, 'oldest paid first')
  await page.waitForFunction(() => document.querySelector('[data-test=review-item]').naturalWidth === 480)
  await page.waitForFunction(() => document.querySelector('[data-test=review-original]')?.naturalWidth > 0)
  assert.equal(await page.textContent('[data-test=review-student-name]'), XSS_NAME)
  assert.ok(await page.locator('[data-test=review-check]').count() > 3)
  await shot(page, 'console-review')

  // Reject with a reason from the Chinese catalogue, by keyboard.
  const reasons = await page.locator('[data-test=review-reason] option').allTextContents()
  assert.ok(reasons.length > 3 && reasons.some((r) => /耳/.test(r)), 'the catalogue in Chinese')
  await page.selectOption('[data-test=review-reason]', { index: 1 })
  await page.keyboard.press('r')
  await until('the next photo', async () =>
    (await page.locator('[data-test=review-item]').getAttribute('data-order-no')) === chen.order_no)
  const rejected = await api('GET', `/orders/${xss.order_no}`, { token: xss.token })
  assert.equal(rejected.status, 'rejected')
  assert.ok(rejected.review.reason)

  // Another reviewer decides 陈萱's photo first: a clear message, and the queue moves on.
  const other = await login('zhao.reviewer', 'reviewer-pass-456')
  await api('POST', `/admin/orders/${chen.order_no}/review`, { token: other, body: { decision: 'approve' } })
  await page.click('[data-test=review-approve]')
  await page.waitForSelector('[data-test=review-conflict]')
  assert.match(await page.textContent('[data-test=review-conflict]'), /其他审核员/)
  await shot(page, 'console-review-conflict')
  await page.waitForSelector('[data-test=review-empty]')

  // The student replaces the photo within the edit period (no new payment); approved.
  await api('PUT', `/orders/${xss.order_no}/photo`, { token: xss.token, body: photoForm(portrait('2')) })
  await page.click('[data-test=review-refresh]')
  await until('the replaced photo', async () =>
    (await page.locator('[data-test=review-item]').getAttribute('data-order-no')) === xss.order_no)
  await page.keyboard.press('a')
  await page.waitForSelector('[data-test=review-empty]')
  assert.equal((await api('GET', `/orders/${xss.order_no}`, { token: xss.token })).status, 'approved')
  assert.deepEqual(b.problems, [])
})
