// Hash routes of the console; each names the roles that may open it (admin opens all).
import { createRouter, createWebHashHistory } from 'vue-router'
import { api, session, hasRole, loadMe, forget } from './session.js'

const page = (name, loader, roles, title) => ({
  path: `/${name}`, name, component: loader, meta: { roles, title },
})

export const pages = [
  page('tasks', () => import('./views/Tasks.vue'), ['admin'], '采集任务'),
  page('roster', () => import('./views/Roster.vue'), ['admin', 'college'], '学生名单'),
  page('progress', () => import('./views/Progress.vue'), ['admin', 'college'], '采集进度'),
  page('review', () => import('./views/Review.vue'), ['reviewer'], '照片审核'),
  page('finance', () => import('./views/Finance.vue'), ['finance'], '财务'),
  page('outbox', () => import('./views/Outbox.vue'), ['admin'], '消息队列'),
  page('audit', () => import('./views/Audit.vue'), ['admin'], '审计日志'),
  page('staff', () => import('./views/Staff.vue'), ['admin'], '账号管理'),
]

export function homeFor() {
  const first = pages.find((p) => hasRole(...p.meta.roles))
  return first ? { name: first.name } : { name: 'login' }
}

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/Login.vue') },
    ...pages,
    { path: '/:rest(.*)*', redirect: '/tasks' },
  ],
})

router.beforeEach(async (to) => {
  if (to.name === 'login') return true
  if (!api.token()) return { name: 'login' }
  if (!session.me) {
    try {
      await loadMe()
    } catch (e) {
      forget(e.status === 401 ? '登录已过期，请重新登录' : e.message)
      return { name: 'login' }
    }
  }
  if (to.meta.roles && !hasRole(...to.meta.roles)) return homeFor()
  return true
})

// A token that expires or is revoked while the console is open: back to the login page.
api.onUnauthorized((e) => {
  forget(e.code === 'TOKEN_EXPIRED' ? '登录已过期，请重新登录' : '登录状态已失效，请重新登录')
  router.push({ name: 'login' })
})
