// Shared by the specs: the running enshin (started by run.sh), Debian's chromium, screenshots.
import { readFileSync, mkdirSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through e2e/run.sh`);
  return value;
};

export const dataDir = need('E2E_DATA');
export const patientUrl = need('E2E_PATIENT_URL');
export const clinicUrl = need('E2E_CLINIC_URL');
export const artifacts = need('E2E_ARTIFACTS');
mkdirSync(artifacts, { recursive: true });

// Chromium trusts exactly this server key (SPKI pin), so TLS is checked for real and the
// `__Host-` cookies behave as in production, without touching the machine's trust store.
function serverSpki() {
  const pem = readFileSync(join(dataDir, 'pki', 'server.crt'), 'utf8');
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function launch(args = []) {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    args: [`--ignore-certificate-errors-spki-list=${serverSpki()}`, ...args],
  });
}

// Chromium as a clinic PC has it: the NSS database of $HOME holds the clinic's bundle (imported
// by pk12util) and trusts the service CA; a managed policy selects the certificate. No flags.
export async function launchWithNss() {
  const home = process.env.E2E_NSS_HOME;
  if (!home) throw new Error('E2E_NSS_HOME is not set: run.sh could not install the policy');
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    env: { ...process.env, HOME: home },
  });
}

// A phone: what most patients use.
export const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
  timezoneId: 'Asia/Tokyo',
};

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export function demo() {
  return JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
}

// A patient registers on the patient site and logs in; the page ends on /home.
export async function registerPatient(page, p) {
  await page.goto(`${patientUrl}/register`);
  await page.fill('#family_name', p.family);
  await page.fill('#given_name', p.given);
  await page.fill('#family_name_kana', p.familyKana);
  await page.fill('#given_name_kana', p.givenKana);
  await page.fill('#birth_date', p.birth);
  await page.fill('#phone', p.phone);
  await page.fill('#login_id', p.loginId);
  await page.fill('#password', p.password);
  await page.check('input[name="accept"]');
  await page.click('form[action="/register"] button');
  await page.waitForURL('**/login?done=registered');
  await page.fill('#login_id', p.loginId);
  await page.fill('#password', p.password);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');
}

// A clinic PC: a desk-sized screen presenting the demo clinic's certificate (Playwright's TLS).
export function clinicDesk() {
  return {
    viewport: { width: 1280, height: 800 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    clientCertificates: [{ origin: clinicUrl, pfxPath: demo().certificate.path, passphrase: demo().certificate.password }],
  };
}

// A demo member of `role` logs in on a clinic PC; the new page ends on /home.
export async function clinicLogIn(context, role) {
  const account = demo().accounts.find((a) => a.role === role);
  const page = await context.newPage();
  const response = await page.goto(`${clinicUrl}/login`);
  if (!response || response.status() !== 200) {
    await shot(page, `clinic-login-failed-${role}`);
  }
  await page.fill('#login_id', account.login_id);
  await page.fill('#password', account.password);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');
  return page;
}

// Staff add a patient to the registry (kana in katakana) and print the invitation; returns its
// code as printed.
export async function inviteNewPatient(staff, p) {
  await staff.goto(`${clinicUrl}/patients`);
  await staff.fill('#family_name', p.family);
  await staff.fill('#given_name', p.given);
  await staff.fill('#family_name_kana', p.familyKana);
  await staff.fill('#given_name_kana', p.givenKana);
  await staff.fill('#birth_date', p.birth);
  if (p.card) await staff.fill('#card_number', p.card);
  await staff.click('form[action="/patients"][method="post"] button');
  await staff.waitForURL('**/patients?done=patient_added');
  await staff.locator('tr', { hasText: `${p.family} ${p.given}` }).locator('button').click();
  await staff.waitForSelector('.qr svg');
  return (await staff.textContent('.code strong')).trim();
}

// A patient registers on a phone (see registerPatient), then links to the clinic with the printed
// code, as its QR code would open it.
export async function registerAndLink(page, p, code) {
  await registerPatient(page, p);
  await page.goto(`${patientUrl}/link?code=${code.replaceAll('-', '')}`);
  await page.click('form[action="/clinics"] button');
  await page.waitForURL('**/clinics?done=clinic_linked');
}

// On /schedule, the admin adds a 15-minute online menu and gives the first doctor the same
// hours every day.
export async function offerOnlineMenu(admin, name, start, end) {
  await admin.goto(`${clinicUrl}/schedule`);
  await admin.fill('#menu_name', name);
  await admin.selectOption('#mode', 'online');
  await admin.fill('#minutes', '15');
  await admin.fill('#fee', '1500');
  await admin.click('form[action="/schedule/menus"] button');
  await admin.waitForURL('**/schedule?done=saved');
  const week = admin.locator('form[action$="/hours"]').first();
  for (let day = 1; day <= 7; day++) {
    await week.locator(`input[name="start${day}"]`).fill(start);
    await week.locator(`input[name="end${day}"]`).fill(end);
  }
  await week.locator('button').click();
  await admin.waitForURL('**/schedule?done=saved');
}
