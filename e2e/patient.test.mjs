// A patient on a phone registers, accepts the terms, logs in, sees "my sessions", ends another
// device's session and logs out (issue 3; AUTH-3, CONSENT-1, SESS-1, SESS-2), and resets a forgotten
// password with a code (issue 7; AUTH-6).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, phone, shot, patientUrl, demo, dataDir } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const loginId = `e2e-${Date.now()}`;
const password = 'Sakura-42-hill!';

async function logIn(page, id = loginId, pass = password) {
  await page.goto(`${patientUrl}/login`);
  await page.fill('#login_id', id);
  await page.fill('#password', pass);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');
}

test('a patient registers, logs in, sees my sessions and logs out', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${patientUrl}/register`);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await shot(page, '01-register');

  await page.fill('#family_name', '山田');
  await page.fill('#given_name', '花子');
  await page.fill('#family_name_kana', 'やまだ');
  await page.fill('#given_name_kana', 'はなこ');
  await page.fill('#birth_date', '1948-04-01');
  await page.fill('#phone', '090-1234-5678');
  await page.fill('#login_id', loginId);
  // No digit: refused, with the rule named, and the rest of the form kept.
  await page.fill('#password', 'Sakura-hill!');
  await page.check('input[name="accept"]');
  await page.click('form[action="/register"] button');
  await assert.doesNotReject(page.waitForSelector('.error'));
  assert.match(await page.textContent('.error'), /パスワード: 数字を1文字以上含めてください/);
  assert.equal(await page.inputValue('#family_name'), '山田');
  assert.equal(await page.inputValue('#password'), '', 'the password is never sent back');
  assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
  await shot(page, '02-register-password-refused');

  await page.fill('#password', password);
  await page.check('input[name="accept"]');
  await page.click('form[action="/register"] button');
  await page.waitForURL('**/login?done=registered');
  assert.match(await page.textContent('.notice'), /登録が完了しました/);
  await shot(page, '03-registered-login');

  await page.fill('#login_id', loginId);
  await page.fill('#password', password);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-enshin_session');
  assert.ok(session, 'the session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Strict');
  await shot(page, '04-home');

  // A second device logs in; this one ends it from "my sessions".
  const other = await browser.newContext(phone);
  const otherPage = await other.newPage();
  await logIn(otherPage);

  await page.click('nav a[href="/sessions"]');
  await page.waitForURL('**/sessions');
  assert.equal(await page.locator('.card').count(), 2);
  assert.equal(await page.locator('.card.current .tag').textContent(), 'この端末');
  await shot(page, '05-my-sessions');
  await page.click('.card:not(.current) button');
  await page.waitForURL('**/sessions?done=session_ended');
  assert.equal(await page.locator('.card').count(), 1);
  await shot(page, '06-other-session-ended');

  await otherPage.goto(`${patientUrl}/home`);
  assert.match(otherPage.url(), /\/login$/, 'the ended session is refused at its next request');
  await other.close();

  await page.click('nav form[action="/logout"] button');
  await page.waitForURL('**/login?done=logged_out');
  assert.match(await page.textContent('.notice'), /ログアウトしました/);
  await shot(page, '07-logged-out');
  await page.goto(`${patientUrl}/sessions`);
  assert.match(page.url(), /\/login$/, 'after log-out the pages ask to log in again');
  await context.close();
});

test('the language switch shows English and stays chosen', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${patientUrl}/login`);
  await page.click('a.lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'Log in');
  await page.goto(`${patientUrl}/register`);
  assert.equal(await page.textContent('h1'), 'Create an account');
  await page.fill('#login_id', 'x');
  await page.check('input[name="accept"]');
  await page.click('form[action="/register"] button');
  assert.match(await page.textContent(".error"), /Login ID: a login ID has 4 to 64 characters/);
  await shot(page, '08-register-english-error');
  await context.close();
});

test('a wrong password and an unknown ID get the same page', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  const answers = [];
  for (const id of [loginId, `nobody-${Date.now()}`]) {
    await page.goto(`${patientUrl}/login`);
    await page.fill('#login_id', id);
    await page.fill('#password', 'Wrong-pass-1!');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
      page.click('form[action="/login"] button'),
    ]);
    answers.push([response.status(), await page.textContent('.error')]);
  }
  assert.deepEqual(answers[0], answers[1]);
  assert.equal(answers[0][0], 401);
  await shot(page, '09-login-refused');
  await context.close();
});

// AUTH-6: the demo patient (whose e-mail counts as proven) forgets the password and sets a new
// one with the six-digit code that the embedded default writes to the outbox.
test('a patient resets a forgotten password with the code from the outbox', async () => {
  const patient = demo().accounts.find((a) => a.role === 'patient');
  const outbox = join(dataDir, 'outbox');
  const before = new Set(readdirSync(outbox));
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${patientUrl}/login`);
  await page.click('a[href="/forgot"]');
  await page.waitForURL('**/forgot');
  await page.fill('#login_id', patient.login_id);
  await shot(page, '10-forgot');
  await page.click('form[action="/forgot"] button');
  await page.waitForURL('**/forgot/code?done=code_sent');

  let mail;
  for (let i = 0; i < 100 && !mail; i++) {
    const fresh = readdirSync(outbox).filter((f) => !before.has(f) && f.endsWith('.eml'));
    if (fresh.length) mail = readFileSync(join(outbox, fresh[0]), 'utf8');
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(mail, 'a code mail in the outbox');
  assert.match(mail, /^To: demo-patient@example\.invalid$/m);
  const code = mail.match(/\b(\d{6})\b/)[1];

  await page.fill('#login_id', patient.login_id);
  await page.fill('#code', code);
  await page.fill('#new_password', 'Momiji-73-valley!');
  await shot(page, '11-forgot-code');
  await page.click('form[action="/forgot/code"] button');
  await page.waitForURL('**/login?done=password_reset');
  assert.match(await page.textContent('.notice'), /パスワードを設定しました/);
  await shot(page, '12-password-reset');
  await logIn(page, patient.login_id, 'Momiji-73-valley!');
  await context.close();
});
