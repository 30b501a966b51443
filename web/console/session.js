// Who is logged in to the console, and the API client bound to their token.
import { reactive } from 'vue'
import { createApi } from '../shared/api.js'

export const api = createApi('portraitd.console.token')

export const session = reactive({
  me: null, // GET /admin/me: {id, username, roles, school_id, college}
  notice: '', // shown on the login page (e.g. the session expired)
})

export function hasRole(...roles) {
  const mine = session.me?.roles || []
  return mine.includes('admin') || roles.some((r) => mine.includes(r))
}

export async function loadMe() {
  if (!api.token()) return null
  session.me = await api.get('/admin/me')
  return session.me
}

export function forget(notice = '') {
  api.setToken(null)
  session.me = null
  session.notice = notice
}
