import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { onUnauthenticated } from './api';
import { useSession } from './stores/session';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

const session = useSession(pinia);
// A REST call answered 401 `unauthenticated`: the session ended (expired, revoked elsewhere).
onUnauthenticated(() => {
  if (session.user) session.end('Your session has ended. Please sign in again.');
});

app.mount('#app');
void session.restore();
