import { createApp } from 'vue';
import { createPinia } from 'pinia';
import PrimeVue from 'primevue/config';
import ConfirmationService from 'primevue/confirmationservice';
import App from './App.vue';
import { onUnauthenticated } from './api';
import { interceptLinks, router } from './router';
import { useSession } from './stores/session';
import { stackTablesOnPhones } from './tables';
import { bankTheme } from './theme';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
app.use(router);
app.use(PrimeVue, { theme: bankTheme });
app.use(ConfirmationService);
interceptLinks();

const session = useSession(pinia);
// A REST call answered 401 `unauthenticated`: the session ended (expired, revoked elsewhere).
onUnauthenticated(() => {
  if (session.user && !session.leaving) session.end('Your session has ended. Please sign in again.');
});

app.mount('#app');
stackTablesOnPhones(document.getElementById('app')!);
void session.restore();
