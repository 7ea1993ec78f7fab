// A clinic admin, with the clinic's client certificate, manages the members: add, change role,
// force log-off, disable; a doctor cannot open the page (issue 3; ROLE-1, AUTH-7, SESS-2).
// The certificate is the demo clinic's PKCS#12 bundle from `enshin serve --demo` (issue 4):
// once through Playwright's clientCertificates, once through the browser's own NSS database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, launchWithNss, shot, clinicUrl, patientUrl, phone, demo, registerPatient, clinicDesk, clinicLogIn,
  inviteNewPatient, registerAndLink, offerOnlineMenu,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const screen = { viewport: { width: 1280, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' };
const desk = clinicDesk();
const logIn = clinicLogIn;


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
  await page.click('form[action="/patients"][method="post"] button');
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
  await registerPatient(patient, {
    family: '鈴木', given: '春子', familyKana: 'すずき', givenKana: 'はるこ', birth: '1942-05-20',
    phone: '090-2222-3333', loginId, password: 'Sakura-42-hill!',
  });
  // What the QR code holds: the patient site's /link with the code.
  await patient.goto(`${patientUrl}/link?code=${code.replaceAll('-', '')}`);
  await shot(patient, '26-patient-link');
  await patient.click('form[action="/clinics"] button');
  await patient.waitForURL('**/clinics?done=clinic_linked');
  assert.match(await patient.textContent('main'), new RegExp(demo().clinic.name));
  await shot(patient, '27-patient-clinics');
  await mobile.close();
});

// FUNC-2 (issue 8): the admin sets up a menu and the doctor's week; staff print an invitation;
// a patient on a phone links with it and books the first free slot; the reception worklist,
// open on a clinic PC, shows the visit without a reload, and staff confirm it.
test('a patient linked by invitation books a slot and the open worklist shows it', async () => {
  const admin = await browser.newContext(desk);
  const setup = await logIn(admin, 'admin');
  await setup.click('nav a[href="/schedule"]');
  await setup.waitForURL('**/schedule');
  await offerOnlineMenu(setup, '再診(オンライン)', '08:00', '20:00');
  await shot(setup, '40-clinic-booking-setup');
  await admin.close();

  const clinic = await browser.newContext(desk);
  const staff = await logIn(clinic, 'staff');
  const code = await inviteNewPatient(staff, {
    family: '高橋', given: '秋子', familyKana: 'タカハシ', givenKana: 'アキコ', birth: '1939-10-01', card: '20481',
  });

  const mobile = await browser.newContext(phone);
  const patient = await mobile.newPage();
  await registerAndLink(patient, {
    family: '高橋', given: '秋子', familyKana: 'たかはし', givenKana: 'あきこ', birth: '1939-10-01',
    phone: '090-4444-5555', loginId: `e2e-book-${Date.now()}`, password: 'Momiji-57-lake!',
  }, code);

  await patient.click('nav a[href="/appointments"]');
  await patient.click('a[href$="/book"]');
  await patient.click('text=再診(オンライン)');
  await patient.waitForSelector('button.slot');
  await shot(patient, '41-patient-slots');
  const first = patient.locator('form:has(button.slot)').first();
  const start = await first.locator('input[name="start"]').getAttribute('value');
  const day = start.slice(0, 10);

  // The worklist of that day is open before the booking.
  await staff.goto(`${clinicUrl}/worklist?date=${day}`);
  assert.equal(await staff.locator('tr', { hasText: '高橋 秋子' }).count(), 0);

  await first.locator('button').click();
  await patient.waitForURL('**/appointments?done=requested');
  assert.match(await patient.textContent('main'), /承認待ち/);
  await shot(patient, '42-patient-appointments');

  // The open page picks the visit up by itself (it polls every 10 s).
  const row = staff.locator('tr', { hasText: '高橋 秋子' });
  await row.waitFor({ timeout: 25000 });
  assert.match(await row.textContent(), /承認待ち/);
  assert.match(await row.textContent(), new RegExp(start.slice(11, 16)));
  assert.equal(await staff.locator('#empty').isHidden(), true);
  await shot(staff, '43-clinic-worklist-live');
  await row.locator('form:has(input[value="confirmed"]) button').click();
  await staff.waitForURL(/\/worklist\?.*done=state_changed/);
  assert.match(await staff.locator('tr', { hasText: '高橋 秋子' }).textContent(), /確定/);
  await shot(staff, '44-clinic-worklist-confirmed');
  await patient.reload();
  assert.match(await patient.textContent('main'), /確定/);
  await shot(patient, '45-patient-confirmed');
  await mobile.close();
  await clinic.close();
});

// FUNC-4 (issue 10): the doctor sets a blood-pressure threshold; the patient records on a phone;
// the doctor's chart shows the threshold line with the reading above it, the alert waits on the
// alert list and is acknowledged with a comment; the printable view has the charts only.
test('a patient records blood pressure on a phone and the doctor sees it against the threshold', async () => {
  const clinic = await browser.newContext(desk);
  const staff = await logIn(clinic, 'staff');
  const code = await inviteNewPatient(staff, {
    family: '伊藤', given: '冬子', familyKana: 'イトウ', givenKana: 'フユコ', birth: '1944-01-15',
  });

  const mobile = await browser.newContext(phone);
  const patient = await mobile.newPage();
  await registerAndLink(patient, {
    family: '伊藤', given: '冬子', familyKana: 'いとう', givenKana: 'ふゆこ', birth: '1944-01-15',
    phone: '090-6666-7777', loginId: `e2e-vitals-${Date.now()}`, password: 'Kaki-63-field!',
  }, code);

  const doctor = await logIn(clinic, 'doctor');
  await doctor.click('nav a[href="/patients"]');
  await doctor.locator('tr', { hasText: '伊藤 冬子' }).locator('a[href$="/monitoring"]').click();
  await doctor.waitForURL('**/monitoring');
  await doctor.selectOption('#kind', 'systolic');
  await doctor.fill('#above', '150');
  await doctor.click('form[action$="/thresholds"] button');
  await doctor.waitForURL('**/monitoring?done=threshold_saved');

  // Yesterday morning, typed afterwards; then now, above the threshold.
  await patient.click('nav a[href="/records"]');
  await patient.waitForURL('**/records');
  const yesterday = new Date(Date.now() - 86400000).toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
  await patient.fill('#systolic', '132');
  await patient.fill('#diastolic', '84');
  await patient.fill('#measured_at', `${yesterday}T07:30`);
  await patient.click('form[action="/records"] button');
  await patient.waitForURL('**/records?done=recorded');
  await patient.fill('#systolic', '２５０');
  await patient.fill('#diastolic', '95');
  await patient.fill('#pulse', '400');
  await patient.click('form[action="/records"] button');
  assert.match(await patient.textContent('.error'), /脈拍: 範囲外の値です。次の範囲で入力してください: 20–300/);
  assert.equal(await patient.inputValue('#systolic'), '２５０');
  await shot(patient, '50-patient-record-refused');
  await patient.fill('#systolic', '162');
  await patient.fill('#pulse', '78');
  await patient.fill('#note', '朝、少し頭痛');
  await patient.click('form[action="/records"] button');
  await patient.waitForURL('**/records?done=recorded');
  assert.match(await patient.textContent('main'), /162/);
  await shot(patient, '51-patient-records');
  await patient.click('a[href="/records/chart?kind=blood_pressure"]');
  await patient.waitForSelector('svg.chart');
  assert.equal(await patient.locator('svg.chart circle').count(), 4);
  await shot(patient, '52-patient-chart');

  await doctor.reload();
  const chart = doctor.locator('#chart-blood_pressure svg.chart');
  await chart.waitFor();
  assert.equal(await chart.locator('line.limit').count(), 1);
  assert.match(await chart.locator('text.limit-label').textContent(), /上限 150/);
  assert.equal(await chart.locator('circle.out').count(), 1);
  assert.match(await doctor.textContent('.who'), /伊藤 冬子.*イトウ フユコ.*1944-01-15/);
  await shot(doctor, '53-clinic-monitoring');
  await doctor.click('a[href$="print=1"]');
  assert.equal(await doctor.locator('form').count(), 1, 'only the log-out form is left');
  await doctor.emulateMedia({ media: 'print' });
  await shot(doctor, '54-clinic-monitoring-print');
  await doctor.emulateMedia({ media: 'screen' });

  await doctor.click('nav a[href="/alerts"]');
  const card = doctor.locator('li.card', { hasText: '伊藤 冬子' });
  assert.match(await card.textContent(), /最高血圧: 162 mmHg \(上限 150\)/);
  await shot(doctor, '55-clinic-alerts');
  await card.locator('input[name="comment"]').fill('電話で様子を確認、明日受診');
  await card.locator('button').click();
  await doctor.waitForURL('**/alerts?done=alert_acknowledged');
  assert.equal(await doctor.locator('li.card', { hasText: '伊藤 冬子' }).count(), 0);
  await mobile.close();
  await clinic.close();
});

// FUNC-3 (issue 10): a doctor builds a questionnaire one question at a time, staff ask a linked
// patient, the patient answers on a phone (saves for later, is told what is missing, sends with
// a photo), and the clinic reads the answers with the photo; sent answers cannot change.
test('a doctor builds a questionnaire and a patient answers it on a phone with a photo', async () => {
  const clinic = await browser.newContext(desk);
  const doctor = await logIn(clinic, 'doctor');
  await doctor.click('nav a[href="/questionnaires"]');
  await doctor.fill('#staff_title', '初診問診(内科)');
  await doctor.fill('#patient_title', 'はじめての方の問診票');
  await doctor.fill('#text', '今日はどうされましたか');
  await doctor.selectOption('#kind', 'text');
  await doctor.check('input[name="required"]');
  await doctor.click('form[action="/questionnaires"] button');
  await doctor.waitForURL(/\/questionnaires\/.*done=questionnaire_changed/);
  const add = async (text, kind, extra = {}) => {
    await doctor.fill('#text', text);
    await doctor.selectOption('#kind', kind);
    if (extra.required) await doctor.check('input[name="required"]');
    if (extra.choices) await doctor.fill('#choices', extra.choices.join('\n'));
    if (extra.min) { await doctor.fill('#min', extra.min); await doctor.fill('#max', extra.max); await doctor.fill('#unit', extra.unit); }
    await doctor.click('form[action$="/questions"] button');
    await doctor.waitForURL(/done=questionnaire_changed/);
  };
  await add('熱はありますか', 'yes_no', { required: true });
  await add('症状(あてはまるものすべて)', 'multiple', { choices: ['せき', 'のどの痛み', '頭痛'] });
  await add('体温', 'number', { min: '34', max: '42', unit: '°C' });
  await add('のどの写真', 'photo');
  assert.equal(await doctor.locator('ol.questions li').count(), 5);
  await shot(doctor, '60-clinic-questionnaire-builder');

  const staff = await logIn(clinic, 'staff');
  const code = await inviteNewPatient(staff, {
    family: '中村', given: '夏子', familyKana: 'ナカムラ', givenKana: 'ナツコ', birth: '1951-07-07',
  });
  const mobile = await browser.newContext(phone);
  const patient = await mobile.newPage();
  await registerAndLink(patient, {
    family: '中村', given: '夏子', familyKana: 'なかむら', givenKana: 'なつこ', birth: '1951-07-07',
    phone: '090-8888-9999', loginId: `e2e-q-${Date.now()}`, password: 'Nashi-71-river!',
  }, code);

  await staff.goto(`${clinicUrl}/patients`);
  await staff.locator('tr', { hasText: '中村 夏子' }).locator('a[href$="/questionnaires"]').click();
  await staff.click('form[action$="/questionnaires"] button');
  await staff.waitForURL(/done=questionnaire_asked/);

  await patient.click('nav a[href="/questionnaires"]');
  await patient.click('text=回答する');
  await patient.fill('textarea', 'のどが痛くて、せきが出ます');
  await patient.check('input[value="せき"]');
  await patient.check('input[value="のどの痛み"]');
  await patient.fill('input[inputmode="decimal"]', '37.8');
  await patient.click('button[value="draft"]');
  await patient.waitForURL(/done=answers_saved/);
  assert.equal(await patient.inputValue('input[inputmode="decimal"]'), '37.8');
  await patient.click('button[value="submit"]');
  assert.match(await patient.textContent('.error'), /熱はありますか: 回答が必要な質問です/);
  await shot(patient, '61-patient-questionnaire-missing');
  await patient.check('input[name="q2"][value="yes"]');
  // A tiny real PNG (1×1) as the photo from the camera.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await patient.setInputFiles('input[type="file"]', { name: 'throat.png', mimeType: 'image/png', buffer: png });
  await shot(patient, '62-patient-questionnaire');
  await patient.click('button[value="submit"]');
  await patient.waitForURL(/\/questionnaires\?done=answers_submitted/);
  assert.match(await patient.textContent('main'), /送信済み/);

  await staff.reload();
  const card = staff.locator('section.card', { hasText: '初診問診(内科)' });
  assert.match(await card.textContent(), /のどが痛くて、せきが出ます/);
  assert.match(await card.textContent(), /せき \/ のどの痛み/);
  assert.match(await card.textContent(), /37\.8 °C/);
  const photo = card.locator('img.photo');
  await photo.waitFor();
  assert.ok(await photo.evaluate((img) => img.complete && img.naturalWidth === 1));
  await shot(staff, '63-clinic-questionnaire-answers');
  await mobile.close();
  await clinic.close();
});
