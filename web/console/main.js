// The staff console: Vue 3 + Element Plus, hash routes, one page per job and role.
import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import '../shared/base.css'
import App from './App.vue'
import { router } from './router.js'

createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount('#app')
