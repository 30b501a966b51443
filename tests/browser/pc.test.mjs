// A student on the PC page: phone + SMS login, the feature code, the collection-code picture,
// the record, the photo with every check shown, payment by WeChat Pay Native (QR code) paid
// through the sandbox, and the order reaching 待审核. A phone already bound in the
// mini-program reaches the same account.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stack, adminToken, seedTask, rosterWithXss, browser, shot, api, sandbox, collectionCode,
  portrait, until, wxStudent } from './lib.mjs'

const b = await browser()
after(() => b.close())
const token = await adminToken()
const { task } = await seedTask(token, { csv: rosterWithXss() })

async function smsCode(phone) {
  return until(`the SMS to ${phone}`, async () => {
    const { messages } = await sandbox('GET', '/__sandbox/messages?kind=sms')
    const m = messages.filter((x) => x.to === phone).pop()
    return m && m.text.match(/(\d{6})/)?.[1]
  })
}

async function phoneLogin(page, phone) {
  await page.goto(`${stack.base}/pc/`)
  await page.fill('[data-test=pc-phone]', phone)
  await page.click('[data-test=pc-send-code]')
  await page.waitForSelector('[data-test=pc-code-sent]')
  await page.fill('[data-test=pc-code]', await smsCode(phone))
  await page.click('[data-test=pc-login]')
}

test('a student goes from phone login to a paid order (待审核) on the PC page', async () => {
  const page = await b.page()
  await phoneLogin(page, '13912345678')
  await page.fill('[data-test=pc-real-name]', '陈萱')
  await page.click('[data-test=pc-save-profile]')
  await page.click('[data-test=pc-start]')
  await page.selectOption('[data-test=pc-collection-type]', 'scattered')
  await page.fill('[data-test=pc-feature-code]', task.feature_code)
  await page.click('[data-test=pc-bind]')

  const code = await collectionCode({ student_no: '2020146101', name: '陈萱' }, task)
  const png = join(stack.workdir, 'code-2020146101.png')
  writeFileSync(png, Buffer.from(code.qr_png_base64, 'base64'))
  await page.setInputFiles('[data-test=pc-qr-file]', png)
  await page.waitForSelector('[data-test=pc-record]')
  assert.equal(await page.textContent('[data-test=pc-record-name]'), '陈萱')
  await shot(page, 'pc-record')
  await page.click('[data-test=pc-confirm]')

  await page.setInputFiles('[data-test=pc-photo-file]', portrait())
  await page.waitForSelector('[data-test=pc-check-verdict]')
  assert.match(await page.textContent('[data-test=pc-check-verdict]'), /合格/)
  const checks = page.locator('[data-test=pc-check]')
  assert.ok(await checks.count() > 3)
  const blocking = await checks.evaluateAll((els) => els.filter((e) => e.dataset.blocking === 'true')
    .map((e) => e.dataset.ok))
  assert.ok(blocking.length > 3)
  assert.deepEqual([...new Set(blocking)], ['true'], 'every blocking check passed')
  await shot(page, 'pc-photo-checks')
  await page.click('[data-test=pc-submit-photo]')
  await page.waitForFunction(() => document.querySelector('[data-test=pc-order-status]')?.textContent === '待支付')

  await page.click('[data-test=pc-pay]')
  const qr = page.locator('[data-test=pc-pay-qr]')
  await qr.waitFor()
  assert.match(await qr.getAttribute('data-code-url'), /^weixin:\/\/wxpay\/bizpayurl\?pr=/)
  await shot(page, 'pc-pay-qr')
  const orders = await until('the order', async () => {
    const { requests } = await sandbox('GET', '/__sandbox/requests?endpoint=native')
    return requests.length ? requests : null
  })
  const orderNo = JSON.parse(orders[0].body).out_trade_no
  assert.ok(!('payer' in JSON.parse(orders[0].body)), 'Native has no payer')
  await sandbox('POST', '/__sandbox/pay', { out_trade_no: orderNo })
  await page.waitForFunction(() => document.querySelector('[data-test=pc-order-status]')?.textContent === '待审核',
    null, { timeout: 60000 })
  await shot(page, 'pc-paid')
  assert.deepEqual(b.problems, [])
})

test('a phone bound in the mini-program reaches the same student account', async () => {
  const wx = await wxStudent('o_pc_bound', '叶思远')
  const { code } = await sandbox('POST', '/__sandbox/phone-code', { openid: 'o_pc_bound', phone: '13700001111' })
  await api('POST', '/me/phone', { token: wx, body: { code } })
  const me = await api('GET', '/me', { token: wx })
  const page = await b.page()
  await page.click('[data-test=pc-logout]')
  await phoneLogin(page, '13700001111')
  await page.waitForSelector('[data-test=pc-start]')
  const tok = await page.evaluate(() => sessionStorage.getItem('portraitd.pc.token'))
  assert.equal((await api('GET', '/me', { token: tok })).id, me.id)
  assert.deepEqual(b.problems, [])
})
