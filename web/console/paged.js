// A list read page by page with the API's opaque cursor ("加载更多"), for the outbox and the
// audit log. url(cursor) gives the path of a page.
import { ref } from 'vue'
import { ElMessage } from 'element-plus'
import { api } from './session.js'

export function usePaged(url) {
  const items = ref([])
  const cursor = ref(null)
  const loading = ref(false)
  async function load(more = false) {
    loading.value = true
    try {
      const page = await api.get(url(more ? cursor.value : null))
      items.value = more ? [...items.value, ...page.items] : page.items
      cursor.value = page.next_cursor
    } catch (e) {
      ElMessage.error(e.message)
    } finally {
      loading.value = false
    }
  }
  return { items, cursor, loading, load }
}
