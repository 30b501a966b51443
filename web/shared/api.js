// The API client of both pages: same origin, bearer token from sessionStorage, the
// API.md error shape turned into ApiError, and a listener for "token expired / revoked".
// Nothing secret lives in the page: the token is the user's own and is dropped on logout.

export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message || code || `HTTP ${status}`)
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter
  }
}

export function createApi(storageKey) {
  let onUnauthorized = () => {}
  const token = () => sessionStorage.getItem(storageKey)

  async function raw(method, path, { body, headers = {}, accept } = {}) {
    const h = { ...headers }
    const t = token()
    if (t) h.Authorization = `Bearer ${t}`
    if (accept) h.Accept = accept
    let payload = body
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob) &&
        typeof body !== 'string') {
      h['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    let res
    try {
      res = await fetch(`/api/v1${path}`, { method, headers: h, body: payload })
    } catch (e) {
      throw new ApiError(0, 'NETWORK', '网络连接失败，请检查网络后重试')
    }
    if (res.ok) return res
    let err = {}
    try {
      err = (await res.json()).error || {}
    } catch (e) { /* not JSON */ }
    const e = new ApiError(res.status, err.code, err.message || `请求失败（${res.status}）`,
      err.details, res.headers.get('Retry-After'))
    if (res.status === 401 && t) onUnauthorized(e)
    throw e
  }

  return {
    token,
    setToken(v) {
      if (v) sessionStorage.setItem(storageKey, v)
      else sessionStorage.removeItem(storageKey)
    },
    onUnauthorized(fn) { onUnauthorized = fn },
    raw,
    async json(method, path, body) {
      const res = await raw(method, path, { body })
      if (res.status === 204) return null
      return res.json()
    },
    get(path) { return this.json('GET', path) },
    post(path, body) { return this.json('POST', path, body ?? {}) },
    patch(path, body) { return this.json('PATCH', path, body) },
    put(path, body) { return this.json('PUT', path, body) },
    // A protected file (photo, CSV, zip) as a Blob: <img src> and <a href> cannot send the
    // bearer token, so files are fetched and shown through object URLs.
    async blob(path, accept) {
      const rel = path.startsWith('/api/v1/') ? path.slice(7) : path
      const res = await raw('GET', rel, { accept })
      return res.blob()
    },
  }
}

// Saves a Blob under a file name (CSV exports, the photo zip).
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}

// Query string from an object, skipping empty values.
export function qs(params) {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}
