// The student's token on the PC page (sessionStorage: closing the browser logs out).
import { createApi } from '../shared/api.js'

export const api = createApi('portraitd.pc.token')
