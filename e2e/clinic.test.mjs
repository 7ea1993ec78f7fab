// A clinic admin, with the clinic's client certificate, manages the members: add, change role,
// force log-off, disable; a doctor cannot open the page (issue 3; ROLE-1, AUTH-7, SESS-2).
// The certificate is the demo clinic's PKCS#12 bundle from `enshin serve --demo` (issue 4):
// once through Playwright's clientCertificates, once through the browser's own NSS database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, launchWithNss, shot, clinicUrl, patientUrl, phone, demo } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const screen = { viewport: { width: 1280, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' };
const desk = {
  ...screen,
  clientCertificates: [{
    origin: clinicUrl,
    pfxPath: demo().certificate.path,
    passphrase: demo().certificate.password,
  }],
};

async function logIn(context, role) {
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

test('an admin adds a member, changes the role, logs them off and disables them', async () => {
  const context = await browser.newContext(desk);
  const page = await logIn(context, 'admin');
  await page.click('nav a[href="/members"]');
  await page.waitForURL('**/members');
  await shot(page, '20-clinic-members');

  const loginId = `e2e-staff-${Date.now()}`;
  await page.fill('#login_id', loginId);
  await page.fill('#name', '佐藤 一郎');
  await page.selectOption('#role', 'staff');
  await page.fill('#password', 'password');
  await page.click('form[action="/members"] button');
  assert.match(await page.textContent('.error'), /パスワード/);
  assert.equal(await page.inputValue('#login_id'), loginId, 'the form keeps what was typed');
  await shot(page, '21-clinic-add-refused');

  await page.fill('#password', 'Kaede-77-river!');
  await page.click('form[action="/members"] button');
  await page.waitForURL('**/members?done=member_added');
  const row = page.locator('tr', { hasText: loginId });
  assert.match(await row.textContent(), /スタッフ/);

  await row.locator('select[name="role"]').selectOption('doctor');
  await row.locator('form[action$="/role"] button').click();
  await page.waitForURL('**/members?done=role_changed');
  assert.match(await page.locator('tr', { hasText: loginId }).textContent(), /医師/);

  await page.locator('tr', { hasText: loginId }).locator('form[action$="/end-sessions"] button').click();
  await page.waitForURL('**/members?done=sessions_ended');
  await page.locator('tr', { hasText: loginId }).locator('form[action$="/disable"] button').click();
  await page.waitForURL('**/members?done=member_disabled');
  assert.match(await page.locator('tr', { hasText: loginId }).textContent(), /無効/);
  await shot(page, '22-clinic-member-disabled');
  await context.close();
});

test('a doctor cannot open the member list', async () => {
  const context = await browser.newContext(desk);
  const page = await logIn(context, 'doctor');
  assert.equal(await page.locator('nav a[href="/members"]').count(), 0);
  const response = await page.goto(`${clinicUrl}/members`);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent('.error'), /権限がありません/);
  await shot(page, '23-clinic-doctor-forbidden');
  await context.close();
});

test('a clinic PC with the bundle in its NSS database logs in through the real browser path', async () => {
  const nssBrowser = await launchWithNss();
  try {
    const context = await nssBrowser.newContext(screen);
    const page = await logIn(context, 'admin');
    await page.click('nav a[href="/certificates"]');
    await page.waitForURL('**/certificates');
    const own = page.locator('tr', { hasText: 'このパソコン' });
    assert.equal(await own.count(), 1, 'the page marks the certificate this browser presented');
    assert.match(await own.textContent(), new RegExp(demo().certificate.serial));
    await shot(page, '24-clinic-nss-certificates');
    await context.close();
  } finally {
    await nssBrowser.close();
  }
});

// FUNC-1 (a): staff register a patient and print an invitation; the patient, on a phone, opens
// the QR code's link after logging in and links the account to the clinic (issue 8).
test('staff print an invitation and a patient links to the clinic with it', async () => {
  const context = await browser.newContext(desk);
  const page = await logIn(context, 'staff');
  await page.click('nav a[href="/patients"]');
  await page.waitForURL('**/patients');
  await page.fill('#family_name', '鈴木');
  await page.fill('#given_name', '春子');
  await page.fill('#family_name_kana', 'スズキ');
  await page.fill('#given_name_kana', 'ハルコ');
  await page.fill('#birth_date', '1942-05-20');
  await page.click('form[action="/patients"] button');
  await page.waitForURL('**/patients?done=patient_added');
  const row = page.locator('tr', { hasText: '鈴木 春子' });
  await row.locator('button').click();
  await page.waitForSelector('.qr svg');
  const code = (await page.textContent('.code strong')).trim();
  assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  await shot(page, '25-clinic-invitation');
  await context.close();

  const mobile = await browser.newContext(phone);
  const patient = await mobile.newPage();
  const loginId = `e2e-link-${Date.now()}`;
  await patient.goto(`${patientUrl}/register`);
  await patient.fill('#family_name', '鈴木');
  await patient.fill('#given_name', '春子');
  await patient.fill('#family_name_kana', 'すずき');
  await patient.fill('#given_name_kana', 'はるこ');
  await patient.fill('#birth_date', '1942-05-20');
  await patient.fill('#phone', '090-2222-3333');
  await patient.fill('#login_id', loginId);
  await patient.fill('#password', 'Sakura-42-hill!');
  await patient.check('input[name="accept"]');
  await patient.click('form[action="/register"] button');
  await patient.waitForURL('**/login?done=registered');
  await patient.fill('#login_id', loginId);
  await patient.fill('#password', 'Sakura-42-hill!');
  await patient.click('form[action="/login"] button');
  await patient.waitForURL('**/home');
  // What the QR code holds: the patient site's /link with the code.
  await patient.goto(`${patientUrl}/link?code=${code.replaceAll('-', '')}`);
  await shot(patient, '26-patient-link');
  await patient.click('form[action="/clinics"] button');
  await patient.waitForURL('**/clinics?done=clinic_linked');
  assert.match(await patient.textContent('main'), new RegExp(demo().clinic.name));
  await shot(patient, '27-patient-clinics');
  await mobile.close();
});
