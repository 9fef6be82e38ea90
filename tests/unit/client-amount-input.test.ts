// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import AmountInput from '../../client/src/components/AmountInput.vue';
import { parseAmountInput } from '../../client/src/money.js';

describe('amount input', () => {
  it('reads amounts as people type them and hands on the decimal string', () => {
    expect(parseAmountInput('₹1,55,999.50', 'INR')).toEqual({ value: '155999.50', error: null });
    expect(parseAmountInput(' 250 ', 'INR')).toEqual({ value: '250', error: null });
    expect(parseAmountInput('.5', 'INR')).toEqual({ value: '0.5', error: null });
    expect(parseAmountInput('', 'INR')).toEqual({ value: '', error: null });
    expect(parseAmountInput('12.345', 'INR').error).toBe('Amounts have at most 2 digits after the point.');
    expect(parseAmountInput('1e5', 'INR').error).toMatch(/^Use digits/);
    expect(parseAmountInput('-5', 'INR').error).toMatch(/^Use digits/);
    expect(parseAmountInput('0.00', 'INR').error).toBe('Enter an amount greater than zero.');
    expect(parseAmountInput('10.5', 'JPY').error).toBe('Amounts in this currency have no decimals.');
    expect(parseAmountInput('1234567890123', 'INR').error).toBe('That amount is too large.');
  });

  it('shows the amount as it will be read, and says what is wrong once the field is left', async () => {
    const wrapper = mount(AmountInput, {
      props: { modelValue: '', currency: 'INR', testid: 'amt', 'onUpdate:modelValue': (v: string) => wrapper.setProps({ modelValue: v }) },
    });
    const input = wrapper.get('[data-testid="amt"]');
    await input.setValue('1,55,999.5');
    expect(wrapper.emitted('update:modelValue')!.at(-1)).toEqual(['155999.5']);
    expect(wrapper.get('[data-testid="amount-input-preview"]').text()).toBe('₹1,55,999.50');
    expect(wrapper.find('[data-testid="amount-input-error"]').exists()).toBe(false);

    await input.setValue('12.345');
    expect(wrapper.find('[data-testid="amount-input-error"]').exists()).toBe(false); // not while typing
    await input.trigger('blur');
    expect(wrapper.get('[data-testid="amount-input-error"]').text()).toBe('Amounts have at most 2 digits after the point.');
    expect(input.attributes('aria-invalid')).toBe('true');

    // The error goes as soon as the input is right again.
    await input.setValue('12.34');
    expect(wrapper.find('[data-testid="amount-input-error"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="amount-input-preview"]').text()).toBe('₹12.34');

    // A value set from outside (a restored draft) shows up in the field.
    await wrapper.setProps({ modelValue: '500' });
    expect((input.element as HTMLInputElement).value).toBe('500');
  });
});
