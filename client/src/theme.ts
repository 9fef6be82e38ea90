// PrimeVue's Aura theme in the bank's colours (navy and the blue of styles.css), light only.
import Aura from '@primeuix/themes/aura';
import { definePreset } from '@primeuix/themes';

const BankPreset = definePreset(Aura, {
  semantic: {
    primary: {
      50: '#e8f0fa',
      100: '#c9dcf1',
      200: '#a3c3e6',
      300: '#74a4d8',
      400: '#4a86c8',
      500: '#1f5f99',
      600: '#1b5489',
      700: '#174a78',
      800: '#14304d',
      900: '#0f253b',
      950: '#0a1828',
    },
  },
});

export const bankTheme = {
  preset: BankPreset,
  options: { darkModeSelector: false as const, cssLayer: false as const },
};
