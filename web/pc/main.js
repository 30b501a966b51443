// The students' PC page: phone + SMS login, then the mini-program's flow, paid by WeChat Pay
// Native (a QR code scanned with WeChat).
import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import '../shared/base.css'
import App from './App.vue'

createApp(App).use(ElementPlus, { locale: zhCn }).mount('#app')
