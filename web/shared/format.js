// Display helpers shared by the console and the PC page (Chinese labels, money, times).

export const ORDER_STATES = {
  awaiting_photo: '待上传照片',
  unpaid: '待支付',
  pending_review: '待审核',
  approved: '审核通过',
  rejected: '审核未通过',
  closed: '已关闭',
  refunded: '已退款',
}

export const ROSTER_STATES = {
  not_started: '未开始采集',
  awaiting_photo: '未上传照片',
  unpaid: '未付款',
  pending_review: '待审核',
  approved: '审核通过',
  rejected: '审核未通过',
  collected_offline: '已线下采集',
}

export const ROLE_NAMES = { admin: '管理员', reviewer: '审核员', finance: '财务', college: '学院' }

export const COLLECTION_TYPES = { centralized: '集中采集', scattered: '分散采集' }

export function yuan(fen) {
  if (fen === null || fen === undefined || Number.isNaN(Number(fen))) return '—'
  const n = Math.trunc(Number(fen))
  const sign = n < 0 ? '-' : ''
  const a = Math.abs(n)
  return `${sign}¥${Math.trunc(a / 100)}.${String(a % 100).padStart(2, '0')}`
}

// An RFC 3339 time shown in Beijing time as "2024-01-19 10:02".
export function bjTime(s) {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  const b = new Date(d.getTime() + 8 * 3600 * 1000)
  const p = (n) => String(n).padStart(2, '0')
  return `${b.getUTCFullYear()}-${p(b.getUTCMonth() + 1)}-${p(b.getUTCDate())} ` +
    `${p(b.getUTCHours())}:${p(b.getUTCMinutes())}`
}

// Today in Beijing as YYYY-MM-DD (offset days).
export function bjDay(offsetDays = 0) {
  const b = new Date(Date.now() + 8 * 3600 * 1000 + offsetDays * 86400000)
  return b.toISOString().slice(0, 10)
}

// One quoted CSV cell for Excel. A cell Excel would run as a formula (first character =, +, -,
// @, tab or CR, and not a plain number) is kept as text behind an apostrophe, as the server's
// exports do (base/buf.c).
export function csvCell(v) {
  let s = String(v ?? '')
  if (/^[=+\-@\t\r]/.test(s) && !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) s = `'${s}`
  return `"${s.replace(/"/g, '""')}"`
}
