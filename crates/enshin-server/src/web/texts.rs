//! The words of the pages, Japanese first and English second. A struct rather than a lookup
//! table, so that a text missing in one language is a compile error, not a blank on a page.

use crate::error::ApiError;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (the default).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// `ja` or `en`, as in `?lang=` and the `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// The language for a `?lang=` or cookie value; unknown values are ignored.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ja" => Some(Self::Ja),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The texts of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::Ja => &JA,
            Self::En => &EN,
        }
    }
}

/// Every text of the pages in one language.
pub struct Texts {
    /// The language.
    pub lang: Lang,
    /// The booking, worklist and schedule pages.
    pub b: &'static super::booking_texts::BookingTexts,
    /// The home-monitoring pages.
    pub m: &'static super::monitoring_texts::MonitoringTexts,
    /// The disclosure pages and the clinic's public page.
    pub d: &'static super::disclosure_texts::DisclosureTexts,
    /// The questionnaire pages.
    pub q: &'static super::questionnaire_texts::QuestionnaireTexts,
    /// Video consultation pages.
    pub c: &'static super::call_texts::CallTexts,
    /// Clinical record pages: notes, plans, the print view.
    pub r: &'static super::record_texts::RecordTexts,
    /// The code of the other language, for the switch.
    pub other_code: &'static str,
    /// The name of the other language, in that language.
    pub other_label: &'static str,
    /// The service's name.
    pub service: &'static str,
    /// The patient site's subtitle.
    pub patient_site: &'static str,
    /// The clinic site's subtitle.
    pub clinic_site: &'static str,
    /// Link to the start page.
    pub nav_home: &'static str,
    /// Link to "my sessions".
    pub nav_sessions: &'static str,
    /// Link to the member list.
    pub nav_members: &'static str,
    /// Log-out button.
    pub logout: &'static str,
    /// Heading of the log-in page.
    pub login_title: &'static str,
    /// Label: login ID.
    pub login_id: &'static str,
    /// Label: password.
    pub password: &'static str,
    /// Log-in button.
    pub login_button: &'static str,
    /// Above the registration link.
    pub no_account: &'static str,
    /// Link to registration.
    pub register_link: &'static str,
    /// After log-out.
    pub logged_out: &'static str,
    /// After registration.
    pub registered: &'static str,
    /// Heading of the registration page.
    pub register_title: &'static str,
    /// Label: family name.
    pub family_name: &'static str,
    /// Label: given name.
    pub given_name: &'static str,
    /// Label: family name in kana.
    pub family_name_kana: &'static str,
    /// Label: given name in kana.
    pub given_name_kana: &'static str,
    /// Label: birth date.
    pub birth_date: &'static str,
    /// Label: e-mail.
    pub email: &'static str,
    /// Label: phone.
    pub phone: &'static str,
    /// Hint under the contact fields.
    pub contact_hint: &'static str,
    /// Hint under the login ID.
    pub login_id_hint: &'static str,
    /// Hint under the password.
    pub password_hint: &'static str,
    /// Marks a required field.
    pub required: &'static str,
    /// Heading of the terms on the registration page.
    pub terms_heading: &'static str,
    /// The acceptance checkbox.
    pub terms_accept: &'static str,
    /// Registration button.
    pub register_button: &'static str,
    /// Above the log-in link on the registration page.
    pub have_account: &'static str,
    /// Heading of the terms page.
    pub terms_title: &'static str,
    /// Why the terms page is shown after log-in.
    pub terms_changed: &'static str,
    /// Version label.
    pub terms_version: &'static str,
    /// Accept button.
    pub accept_button: &'static str,
    /// The checkbox was not ticked.
    pub must_accept: &'static str,
    /// Heading of the start page.
    pub home_title: &'static str,
    /// Start page text for patients.
    pub home_patient: &'static str,
    /// Start page text for clinic members.
    pub home_clinic: &'static str,
    /// Heading of "my sessions".
    pub sessions_title: &'static str,
    /// Explanation on "my sessions".
    pub sessions_intro: &'static str,
    /// Column: logged in at.
    pub signed_in_at: &'static str,
    /// Column: last activity.
    pub last_active: &'static str,
    /// Marks the session of this browser.
    pub this_device: &'static str,
    /// Button: end a session.
    pub end_session: &'static str,
    /// After ending a session.
    pub session_ended: &'static str,
    /// Heading of the member list.
    pub members_title: &'static str,
    /// Column: display name.
    pub member_name: &'static str,
    /// Column: role.
    pub member_role: &'static str,
    /// Column: state.
    pub member_state: &'static str,
    /// State: active.
    pub active: &'static str,
    /// State: disabled.
    pub disabled: &'static str,
    /// Button: change the role.
    pub change_role: &'static str,
    /// Button: disable.
    pub disable: &'static str,
    /// Button: end all sessions of a member.
    pub end_sessions: &'static str,
    /// Heading of the add form.
    pub add_member: &'static str,
    /// Label: display name of a new member.
    pub display_name: &'static str,
    /// Label: initial password.
    pub initial_password: &'static str,
    /// Hint under the initial password.
    pub initial_password_hint: &'static str,
    /// Button: add.
    pub add_button: &'static str,
    /// Role names.
    pub role_admin: &'static str,
    /// Role names.
    pub role_doctor: &'static str,
    /// Role names.
    pub role_staff: &'static str,
    /// After adding a member.
    pub member_added: &'static str,
    /// After disabling a member.
    pub member_disabled: &'static str,
    /// After changing a role.
    pub role_changed: &'static str,
    /// After a forced log-off.
    pub sessions_ended: &'static str,
    /// Marks the admin's own row.
    pub you: &'static str,
    /// Link to the certificate list.
    pub nav_certificates: &'static str,
    /// Heading of the certificate list.
    pub certificates_title: &'static str,
    /// Explanation on the certificate list.
    pub certificates_intro: &'static str,
    /// Column: label.
    pub cert_label: &'static str,
    /// Column: serial.
    pub cert_serial: &'static str,
    /// Column: valid until.
    pub cert_until: &'static str,
    /// Column: last use.
    pub cert_last_used: &'static str,
    /// State: in force.
    pub cert_in_force: &'static str,
    /// State: expires within 30 days.
    pub cert_expiring: &'static str,
    /// State: revoked.
    pub cert_revoked: &'static str,
    /// State: expired.
    pub cert_expired: &'static str,
    /// Never used.
    pub never: &'static str,
    /// Marks the certificate of this PC.
    pub this_pc: &'static str,
    /// Warning on the admin's start page.
    pub cert_warning: &'static str,
    /// The operator console's subtitle.
    pub operator_site: &'static str,
    /// Label: TOTP code.
    pub totp: &'static str,
    /// Hint under the TOTP code.
    pub totp_hint: &'static str,
    /// Start page text for operators.
    pub home_operator: &'static str,
    /// Link to the clinic list.
    pub nav_clinics: &'static str,
    /// Link to the access log.
    pub nav_audit: &'static str,
    /// Heading of the clinic list.
    pub clinics_title: &'static str,
    /// Column: clinic id.
    pub clinic_id: &'static str,
    /// Column: active members.
    pub active_members: &'static str,
    /// Column: created.
    pub created: &'static str,
    /// Heading of the access log.
    pub audit_title: &'static str,
    /// Explanation on the access log page.
    pub audit_intro: &'static str,
    /// Filter: from.
    pub from_day: &'static str,
    /// Filter: to.
    pub to_day: &'static str,
    /// Filter: principal.
    pub principal: &'static str,
    /// Filter: outcome.
    pub outcome: &'static str,
    /// Filter: any.
    pub any: &'static str,
    /// Button: search.
    pub search: &'static str,
    /// Column: time.
    pub time: &'static str,
    /// Column: action.
    pub action: &'static str,
    /// Column: source.
    pub source: &'static str,
    /// Link: next page.
    pub next_page: &'static str,
    /// Nothing found.
    pub no_entries: &'static str,
    /// Heading of the announcements on the admin's start page.
    pub announcements: &'static str,
    /// Marks an urgent security notice.
    pub security_notice: &'static str,
    /// "Takes effect on".
    pub effective_from: &'static str,
    /// Heading of the error page.
    pub error_title: &'static str,
    /// Link back to the start.
    pub back_home: &'static str,
    /// Link to the operator-access page.
    pub nav_operator_access: &'static str,
    /// Explanation on the operator-access page.
    pub operator_access_intro: &'static str,
    /// No requests.
    pub no_grants: &'static str,
    /// Column: operator.
    pub grant_operator: &'static str,
    /// Column: kind.
    pub grant_kind: &'static str,
    /// Kind: request.
    pub grant_request: &'static str,
    /// Kind: break-glass.
    pub grant_break_glass: &'static str,
    /// Column: scope.
    pub grant_scope: &'static str,
    /// Scope: the clinic.
    pub scope_clinic: &'static str,
    /// Scope: one patient.
    pub scope_patient: &'static str,
    /// Column: reason.
    pub grant_reason: &'static str,
    /// Column: duration.
    pub grant_minutes: &'static str,
    /// Unit after a number of minutes.
    pub minutes_unit: &'static str,
    /// Column: period.
    pub grant_period: &'static str,
    /// State: pending.
    pub state_pending: &'static str,
    /// State: active.
    pub state_active: &'static str,
    /// State: ended.
    pub state_ended: &'static str,
    /// State: refused.
    pub state_refused: &'static str,
    /// State: lapsed.
    pub state_lapsed: &'static str,
    /// Button: approve.
    pub approve: &'static str,
    /// Button: refuse.
    pub refuse: &'static str,
    /// Button: end access now.
    pub end_access: &'static str,
    /// Heading: what operators did.
    pub operator_actions: &'static str,
    /// Column: target.
    pub target: &'static str,
    /// Notice after approving.
    pub access_approved: &'static str,
    /// Notice after refusing.
    pub access_refused: &'static str,
    /// Notice after ending.
    pub access_ended: &'static str,
    /// Home notice: something to look at.
    pub access_waiting: &'static str,
    /// Heading of the operator's access page.
    pub access_title: &'static str,
    /// Explanation on the operator's access page.
    pub access_intro: &'static str,
    /// Button: request access.
    pub ask_access: &'static str,
    /// Button: break-glass.
    pub break_glass: &'static str,
    /// Hint under the patient id.
    pub patient_id_hint: &'static str,
    /// Notice after a request.
    pub access_requested: &'static str,
    /// Notice after break-glass.
    pub access_opened: &'static str,
    /// Heading: create a clinic.
    pub create_clinic: &'static str,
    /// Label: clinic name.
    pub clinic_name: &'static str,
    /// Button: create.
    pub create_button: &'static str,
    /// Heading: clinics leaving the service.
    pub terminations_title: &'static str,
    /// No clinic is leaving.
    pub no_terminations: &'static str,
    /// Column: termination date.
    pub termination_date: &'static str,
    /// Column: where the termination stands.
    pub termination_state: &'static str,
    /// State: notice given, data still kept.
    pub termination_pending: &'static str,
    /// State: data deleted.
    pub termination_deleted: &'static str,
    /// How terminations are given and carried out.
    pub termination_hint: &'static str,
    /// Heading on a clinic's page: its termination.
    pub terminate_title: &'static str,
    /// What the termination does, step by step.
    pub terminate_intro: &'static str,
    /// Button: record the termination date.
    pub terminate_give: &'static str,
    /// The date has not come: deletion waits.
    pub terminate_waits: &'static str,
    /// The date has come: the clinic can be deleted.
    pub terminate_due: &'static str,
    /// Label: type the clinic's id again.
    pub delete_confirm: &'static str,
    /// Warning before the deletion.
    pub delete_warning: &'static str,
    /// Button: delete the clinic.
    pub delete_button: &'static str,
    /// Button: withdraw the termination.
    pub withdraw_button: &'static str,
    /// Link: the deletion certificate.
    pub certificate_link: &'static str,
    /// Heading: suspensions.
    pub suspensions_title: &'static str,
    /// No suspension in force.
    pub no_suspensions: &'static str,
    /// Label: what to suspend.
    pub suspend_scope: &'static str,
    /// Scope: the whole service.
    pub whole_service: &'static str,
    /// Label: message to users.
    pub suspend_message: &'static str,
    /// Button: suspend.
    pub suspend_button: &'static str,
    /// Button: lift.
    pub lift_button: &'static str,
    /// Label: clinic administrator's address.
    pub admin_email: &'static str,
    /// Hint under the address.
    pub admin_email_hint: &'static str,
    /// Button: save.
    pub save: &'static str,
    /// Heading: emergency accounts.
    pub emergency_title: &'static str,
    /// Explanation of emergency accounts.
    pub emergency_intro: &'static str,
    /// Label: hours.
    pub emergency_hours: &'static str,
    /// Label: number of admin accounts.
    pub emergency_admins: &'static str,
    /// Label: number of doctor accounts.
    pub emergency_doctors: &'static str,
    /// Label: number of staff accounts.
    pub emergency_staff: &'static str,
    /// Button: start.
    pub emergency_start: &'static str,
    /// Button: end.
    pub emergency_end: &'static str,
    /// State: in force until.
    pub emergency_until: &'static str,
    /// Marks an emergency account.
    pub emergency_account: &'static str,
    /// State: suspended with message.
    pub suspended_with: &'static str,
    /// Link to announcements.
    pub nav_announcements: &'static str,
    /// Label: kind.
    pub announcement_kind: &'static str,
    /// Kind: change.
    pub kind_change: &'static str,
    /// Kind: security.
    pub kind_security: &'static str,
    /// Label: title.
    pub announcement_title: &'static str,
    /// Label: text.
    pub announcement_text: &'static str,
    /// Label: effective date.
    pub effective_date: &'static str,
    /// Button: publish.
    pub publish: &'static str,
    /// Notice after creating a clinic.
    pub clinic_created: &'static str,
    /// Notice after suspending.
    pub suspended_done: &'static str,
    /// Notice after lifting.
    pub lifted: &'static str,
    /// Notice after saving the address.
    pub contact_saved: &'static str,
    /// Notice: the termination date was recorded.
    pub termination_noticed: &'static str,
    /// Notice: the termination was withdrawn.
    pub termination_withdrawn: &'static str,
    /// Notice after starting.
    pub emergency_started: &'static str,
    /// Notice after ending.
    pub emergency_ended: &'static str,
    /// Notice after publishing.
    pub announcement_published: &'static str,
    /// Link to the reset page.
    pub forgot_link: &'static str,
    /// Heading of the reset pages.
    pub forgot_title: &'static str,
    /// Explanation for patients.
    pub forgot_intro_patient: &'static str,
    /// Explanation for clinic members.
    pub forgot_intro_clinic: &'static str,
    /// Label: where to receive the code.
    pub channel_label: &'static str,
    /// Channel: e-mail.
    pub channel_email: &'static str,
    /// Channel: SMS.
    pub channel_sms: &'static str,
    /// Button: send the code.
    pub send_code: &'static str,
    /// Button: send the link.
    pub send_link: &'static str,
    /// Label: the code.
    pub code_label: &'static str,
    /// Label: new password.
    pub new_password: &'static str,
    /// Button: set the password.
    pub set_password: &'static str,
    /// Link to the code form.
    pub have_code: &'static str,
    /// Notice after asking for a code.
    pub code_sent: &'static str,
    /// Notice after asking for a link.
    pub link_sent: &'static str,
    /// Notice after a reset.
    pub password_reset: &'static str,
    /// Notice after an admin set a password.
    pub password_set: &'static str,
    /// Button: set a member's password.
    pub set_member_password: &'static str,
    /// Label: one's own e-mail address.
    pub own_email: &'static str,
    /// Button: save the address.
    pub save_email: &'static str,
    /// Notice after saving one's address.
    pub email_saved: &'static str,
    /// Heading: contact check.
    pub verify_title: &'static str,
    /// Explanation of the contact check.
    pub verify_intro: &'static str,
    /// State: proven.
    pub verified: &'static str,
    /// State: not proven.
    pub not_verified: &'static str,
    /// Button: confirm.
    pub verify_button: &'static str,
    /// Notice after sending a contact code.
    pub contact_code_sent: &'static str,
    /// Notice after proving a contact.
    pub contact_verified: &'static str,
    /// Link to the patient list.
    pub nav_patients: &'static str,
    /// Heading of the patient list.
    pub patients_title: &'static str,
    /// Heading: add a patient.
    pub add_patient: &'static str,
    /// Button: add.
    pub add_patient_button: &'static str,
    /// Notice after adding a patient.
    pub patient_added: &'static str,
    /// Empty patient list.
    pub no_patients: &'static str,
    /// Column: link state.
    pub link_state: &'static str,
    /// State: linked.
    pub linked: &'static str,
    /// State: not linked.
    pub not_linked: &'static str,
    /// Button: print an invitation.
    pub invite_button: &'static str,
    /// Heading of the printed invitation.
    pub invitation_title: &'static str,
    /// Instructions on the invitation.
    pub invitation_text: &'static str,
    /// Label: valid until.
    pub invitation_expires: &'static str,
    /// Hint on the invitation page.
    pub print_hint: &'static str,
    /// Link to the patient's clinics.
    pub nav_my_clinics: &'static str,
    /// Heading of the patient's clinics.
    pub my_clinics_title: &'static str,
    /// The patient has no clinic yet.
    pub no_clinics: &'static str,
    /// Label: the invitation code.
    pub link_code: &'static str,
    /// Button: link.
    pub link_button: &'static str,
    /// Notice after linking.
    pub clinic_linked: &'static str,
    /// Label: linked since.
    pub linked_since: &'static str,
    /// Label: the clinic's public code.
    pub clinic_code_label: &'static str,
    /// Hint for the clinic code.
    pub clinic_code_hint: &'static str,
    /// Heading: join requests.
    pub join_requests_title: &'static str,
    /// Button: approve as a new patient.
    pub approve_new: &'static str,
    /// Button: approve onto a record.
    pub approve_existing: &'static str,
    /// Notice after approving.
    pub join_approved: &'static str,
    /// Notice after refusing.
    pub join_refused: &'static str,
    /// Heading: ask by clinic code.
    pub ask_join_title: &'static str,
    /// Button: ask.
    pub ask_join_button: &'static str,
    /// Notice after asking.
    pub join_requested: &'static str,
    /// State: approved.
    pub state_approved: &'static str,
    /// Times are shown in this zone.
    pub time_zone_note: &'static str,
}

/// 日本語.
pub static JA: Texts = Texts {
    b: &super::booking_texts::JA,
    m: &super::monitoring_texts::JA,
    d: &super::disclosure_texts::JA,
    q: &super::questionnaire_texts::JA,
    c: &super::call_texts::JA,
    r: &super::record_texts::JA,
    lang: Lang::Ja,
    other_code: "en",
    other_label: "English",
    service: "遠診",
    patient_site: "オンライン診療",
    clinic_site: "クリニック",
    nav_home: "ホーム",
    nav_sessions: "ログイン中の端末",
    nav_members: "職員",
    logout: "ログアウト",
    login_title: "ログイン",
    login_id: "ログインID",
    password: "パスワード",
    login_button: "ログインする",
    no_account: "はじめての方",
    register_link: "新規登録はこちら",
    logged_out: "ログアウトしました。",
    registered: "登録が完了しました。ログインしてください。",
    register_title: "新規登録",
    family_name: "姓",
    given_name: "名",
    family_name_kana: "姓(ふりがな)",
    given_name_kana: "名(ふりがな)",
    birth_date: "生年月日",
    email: "メールアドレス",
    phone: "携帯電話番号",
    contact_hint: "メールアドレスか携帯電話番号のどちらかを入力してください(パスワードを忘れたときに使います)。",
    login_id_hint: "4〜64文字。半角の英小文字・数字と . _ - @ が使えます。",
    password_hint: "8〜128文字。英字・数字・記号をそれぞれ1つ以上含めてください。",
    required: "必須",
    terms_heading: "利用規約",
    terms_accept: "利用規約を読み、同意します",
    register_button: "同意して登録する",
    have_account: "登録済みの方",
    terms_title: "利用規約",
    terms_changed: "利用規約が新しくなりました。引き続きご利用いただくには、内容を確認して同意してください。",
    terms_version: "版",
    accept_button: "同意する",
    must_accept: "利用規約への同意が必要です。",
    home_title: "ホーム",
    home_patient: "ログインしています。予約・問診・生活記録は順次ご利用いただけるようになります。",
    home_clinic: "ログインしています。",
    sessions_title: "ログイン中の端末",
    sessions_intro: "あなたのアカウントでログインしている端末の一覧です。心当たりのないものはログオフさせてください。",
    signed_in_at: "ログイン日時",
    last_active: "最終操作",
    this_device: "この端末",
    end_session: "ログオフさせる",
    session_ended: "その端末をログオフさせました。",
    members_title: "職員の管理",
    member_name: "氏名",
    member_role: "役割",
    member_state: "状態",
    active: "有効",
    disabled: "無効",
    change_role: "役割を変更",
    disable: "無効にする",
    end_sessions: "強制ログオフ",
    add_member: "職員を追加",
    display_name: "氏名",
    initial_password: "初期パスワード",
    initial_password_hint: "本人に直接お伝えください。8文字以上で英字・数字・記号を含めてください。",
    add_button: "追加する",
    role_admin: "管理者",
    role_doctor: "医師",
    role_staff: "スタッフ",
    member_added: "職員を追加しました。",
    member_disabled: "職員を無効にし、ログインを終了させました。",
    role_changed: "役割を変更しました。",
    sessions_ended: "その職員のログインをすべて終了させました。",
    you: "(あなた)",
    nav_certificates: "証明書",
    certificates_title: "クリニック証明書",
    certificates_intro: "このクリニックのパソコンに入れた証明書の一覧です。発行・失効は運用事業者に依頼してください。紛失したパソコンの証明書はすぐに失効させてください。",
    cert_label: "用途",
    cert_serial: "シリアル番号",
    cert_until: "有効期限",
    cert_last_used: "最終利用",
    cert_in_force: "有効",
    cert_expiring: "まもなく期限切れ",
    cert_revoked: "失効",
    cert_expired: "期限切れ",
    never: "未使用",
    this_pc: "このパソコン",
    cert_warning: "30日以内に有効期限が切れるクリニック証明書があります。運用事業者に更新を依頼してください。",
    operator_site: "運用コンソール",
    totp: "確認コード(6桁)",
    totp_hint: "認証アプリに表示されている6桁の数字。",
    home_operator: "運用コンソールにログインしています。患者の情報はここには表示されません。",
    nav_clinics: "クリニック",
    nav_audit: "アクセスログ",
    clinics_title: "クリニック一覧",
    clinic_id: "クリニックID",
    active_members: "有効な職員",
    created: "登録日時",
    audit_title: "アクセスログ",
    audit_intro: "記録はすべてIDのみで、個人の情報は含みません。この閲覧も記録されます。",
    from_day: "開始日",
    to_day: "終了日",
    principal: "利用者ID",
    outcome: "結果",
    any: "すべて",
    search: "検索",
    time: "日時",
    action: "操作",
    source: "接続元",
    next_page: "次のページ",
    no_entries: "該当する記録はありません。",
    announcements: "運用事業者からのお知らせ",
    security_notice: "緊急のセキュリティのお知らせ",
    effective_from: "実施日",
    error_title: "エラー",
    back_home: "ホームへ戻る",
    nav_operator_access: "運営者アクセス",
    operator_access_intro: "運営事業者は、当院の管理者が承認したとき、または緊急時(ブレークグラス)にしか患者情報を見られません。当院への運営者のアクセスと、その間に行われた操作・閲覧された記録をすべてここに表示します(90日分)。",
    no_grants: "運営者からのアクセスはありません。",
    grant_operator: "運営者",
    grant_kind: "種別",
    grant_request: "承認による",
    grant_break_glass: "緊急時(ブレークグラス)",
    grant_scope: "範囲",
    scope_clinic: "当院の全患者",
    scope_patient: "患者ID",
    grant_reason: "理由",
    grant_minutes: "時間(分)",
    minutes_unit: "分",
    grant_period: "期間",
    state_pending: "承認待ち",
    state_active: "アクセス中",
    state_ended: "終了",
    state_refused: "拒否済み",
    state_lapsed: "期限切れ(判断なし)",
    approve: "承認する",
    refuse: "拒否する",
    end_access: "今すぐ終了する",
    operator_actions: "運営者の操作と閲覧",
    target: "対象",
    access_approved: "アクセスを承認しました。",
    access_refused: "アクセスを拒否しました。",
    access_ended: "アクセスを終了しました。",
    access_waiting: "運営者アクセスに確認が必要な項目があります。",
    access_title: "患者情報へのアクセス",
    access_intro: "患者情報は、クリニック管理者の承認(最長8時間)か、緊急時のブレークグラス(最長4時間、管理者に即時通知)でのみ閲覧できます。理由には患者の氏名を書かないでください。",
    ask_access: "承認を依頼する",
    break_glass: "緊急アクセス(ブレークグラス)",
    patient_id_hint: "空欄にすると当院の全患者が対象になります。",
    access_requested: "承認を依頼しました。",
    access_opened: "緊急アクセスを開始しました。クリニックの管理者に通知しました。",
    create_clinic: "クリニックを追加",
    clinic_name: "クリニック名",
    create_button: "追加する",
    terminations_title: "利用終了",
    no_terminations: "利用終了の予定はありません。",
    termination_date: "利用終了日",
    termination_state: "状態",
    termination_pending: "予定(データは保持中・エクスポート可)",
    termination_deleted: "削除済み",
    termination_hint: "利用終了は医療機関の書面による申し出に基づき、クリニックのページ(またはコマンド enshin clinic terminate ID --on 日付、利用終了日以降に --delete)で記録・実行します。",
    terminate_title: "利用終了(解約)",
    terminate_intro: "医療機関の書面による申し出に基づいて利用終了日を記録します。利用終了日まではクリニックは通常どおり利用でき、管理者はデータ一式をダウンロードできます。利用終了日以降に削除すると、データを消去し、暗号鍵をすべての写しから破棄し、署名付きの削除証明書を作成します。",
    terminate_give: "利用終了日を記録",
    terminate_waits: "削除は利用終了日以降にできます。日付は変更できます。",
    terminate_due: "利用終了日になりました。データを削除できます。",
    delete_confirm: "確認のため、クリニックIDを入力",
    delete_warning: "この操作は取り消せません。データは復元できなくなります。医療機関がデータ一式を受け取ったことを確認してから実行してください。",
    delete_button: "データを削除して削除証明書を作成",
    withdraw_button: "利用終了を取り消す(医療機関が継続を申し出た場合)",
    certificate_link: "削除証明書",
    suspensions_title: "停止(インシデントモード)",
    no_suspensions: "停止中のものはありません。",
    suspend_scope: "対象",
    whole_service: "サービス全体",
    suspend_message: "利用者に表示するメッセージ",
    suspend_button: "停止する",
    lift_button: "再開する",
    admin_email: "管理者の連絡先メールアドレス",
    admin_email_hint: "緊急時アクセスの通知と緊急用アカウントの送付先です。",
    save: "保存する",
    emergency_title: "緊急用アカウント",
    emergency_intro: "通常のIDを一時的に停止し、緊急用アカウントを発行します。IDとパスワードは管理者の連絡先に送られ、運営者には表示されません。期限が来ると自動で失効し、通常のIDに戻ります。",
    emergency_hours: "有効時間(1〜72時間)",
    emergency_admins: "管理者",
    emergency_doctors: "医師",
    emergency_staff: "スタッフ",
    emergency_start: "緊急用アカウントを発行する",
    emergency_end: "緊急対応を終了する",
    emergency_until: "緊急対応中(終了予定)",
    emergency_account: "緊急用",
    suspended_with: "停止中",
    nav_announcements: "お知らせ",
    announcement_kind: "種類",
    kind_change: "サービス変更(14日前までに告知)",
    kind_security: "緊急のセキュリティのお知らせ",
    announcement_title: "件名",
    announcement_text: "本文",
    effective_date: "適用日",
    publish: "公開する",
    clinic_created: "クリニックを追加しました。",
    suspended_done: "停止しました。利用者にはメッセージが表示されます。",
    lifted: "再開しました。",
    contact_saved: "連絡先を保存しました。",
    termination_noticed: "利用終了日を記録しました。",
    termination_withdrawn: "利用終了を取り消しました。クリニックは引き続き利用できます。",
    emergency_started: "緊急用アカウントを発行し、管理者の連絡先に送りました。",
    emergency_ended: "緊急対応を終了しました。通常のIDが使えます。",
    announcement_published: "お知らせを公開しました。",
    forgot_link: "パスワードを忘れた方",
    forgot_title: "パスワードの再設定",
    forgot_intro_patient: "ログインIDと、確認コードの受け取り方法を選んでください。登録時に確認済みのメールアドレスか携帯電話に、6桁のコードを送ります(10分間有効)。",
    forgot_intro_clinic: "管理者の方には、登録済みのメールアドレスに再設定用のリンクを送ります(30分間有効)。管理者以外の方は、クリニックの管理者に新しいパスワードの設定を依頼してください。",
    channel_label: "受け取り方法",
    channel_email: "メール",
    channel_sms: "SMS(携帯電話)",
    send_code: "確認コードを送る",
    send_link: "再設定用のリンクを送る",
    code_label: "確認コード(6桁)",
    new_password: "新しいパスワード",
    set_password: "パスワードを設定する",
    have_code: "確認コードをお持ちの方",
    code_sent: "登録があれば確認コードを送りました。届いたコードを入力してください。",
    link_sent: "管理者の登録があれば、再設定用のリンクを送りました。",
    password_reset: "パスワードを設定しました。新しいパスワードでログインしてください。",
    password_set: "パスワードを設定しました。その職員はログアウトされました。",
    set_member_password: "パスワードを設定",
    own_email: "あなたのメールアドレス(パスワード再設定用)",
    save_email: "保存する",
    email_saved: "メールアドレスを保存しました。",
    verify_title: "連絡先の確認",
    verify_intro: "パスワードを忘れたときに確認コードを受け取れるよう、連絡先を確認してください。",
    verified: "確認済み",
    not_verified: "未確認",
    verify_button: "確認する",
    contact_code_sent: "確認コードを送りました。届いたコードを入力してください。",
    contact_verified: "連絡先を確認しました。",
    nav_patients: "患者",
    patients_title: "患者一覧",
    add_patient: "患者を登録",
    add_patient_button: "登録する",
    patient_added: "患者を登録しました。",
    no_patients: "登録された患者はいません。",
    link_state: "アプリ連携",
    linked: "連携済み",
    not_linked: "未連携",
    invite_button: "連携用コードを発行",
    invitation_title: "遠診(オンライン診療)連携のご案内",
    invitation_text: "スマートフォンでQRコードを読み取るか、遠診にログインして「かかりつけのクリニック」で次のコードを入力してください。このコードは1回だけ使えます。",
    invitation_expires: "有効期限",
    print_hint: "このページを印刷して患者さんにお渡しください。新しいコードを発行すると、このコードは使えなくなります。",
    nav_my_clinics: "かかりつけ",
    my_clinics_title: "かかりつけのクリニック",
    no_clinics: "まだ連携しているクリニックはありません。クリニックでもらった連携コードを入力してください。",
    link_code: "連携コード(12文字)",
    link_button: "連携する",
    clinic_linked: "クリニックと連携しました。",
    linked_since: "連携日",
    clinic_code_label: "当院のコード",
    clinic_code_hint: "患者さんがアプリから「クリニックのコードで申請」するときに使うコードです。",
    join_requests_title: "連携の申請",
    approve_new: "新しい患者として承認",
    approve_existing: "この患者として承認",
    join_approved: "申請を承認しました。",
    join_refused: "申請を拒否しました。",
    ask_join_title: "クリニックのコードで申請",
    ask_join_button: "申請する",
    join_requested: "申請しました。クリニックの承認をお待ちください。",
    state_approved: "承認済み",
    time_zone_note: "時刻は日本時間です。",
};

/// English.
pub static EN: Texts = Texts {
    b: &super::booking_texts::EN,
    m: &super::monitoring_texts::EN,
    d: &super::disclosure_texts::EN,
    q: &super::questionnaire_texts::EN,
    c: &super::call_texts::EN,
    r: &super::record_texts::EN,
    lang: Lang::En,
    other_code: "ja",
    other_label: "日本語",
    service: "enshin",
    patient_site: "Online consultation",
    clinic_site: "Clinic",
    nav_home: "Home",
    nav_sessions: "My sessions",
    nav_members: "Members",
    logout: "Log out",
    login_title: "Log in",
    login_id: "Login ID",
    password: "Password",
    login_button: "Log in",
    no_account: "New here?",
    register_link: "Create an account",
    logged_out: "You have logged out.",
    registered: "Your account is ready. Please log in.",
    register_title: "Create an account",
    family_name: "Family name",
    given_name: "Given name",
    family_name_kana: "Family name (kana)",
    given_name_kana: "Given name (kana)",
    birth_date: "Date of birth",
    email: "E-mail address",
    phone: "Mobile phone number",
    contact_hint: "Give an e-mail address or a mobile phone number (used if you forget your password).",
    login_id_hint: "4 to 64 characters: lower-case letters a-z, digits and . _ - @",
    password_hint: "8 to 128 characters, with at least one letter, one digit and one symbol.",
    required: "required",
    terms_heading: "Terms of use",
    terms_accept: "I have read and accept the terms of use",
    register_button: "Accept and create the account",
    have_account: "Already registered?",
    terms_title: "Terms of use",
    terms_changed: "The terms of use have changed. Please read them and accept to continue.",
    terms_version: "Version",
    accept_button: "Accept",
    must_accept: "You need to accept the terms of use.",
    home_title: "Home",
    home_patient: "You are logged in. Booking, questionnaires and home records will follow.",
    home_clinic: "You are logged in.",
    sessions_title: "My sessions",
    sessions_intro: "Devices logged in to your account. End any you do not recognise.",
    signed_in_at: "Logged in",
    last_active: "Last active",
    this_device: "This device",
    end_session: "End session",
    session_ended: "That session has been ended.",
    members_title: "Members",
    member_name: "Name",
    member_role: "Role",
    member_state: "State",
    active: "Active",
    disabled: "Disabled",
    change_role: "Change role",
    disable: "Disable",
    end_sessions: "Log off everywhere",
    add_member: "Add a member",
    display_name: "Name",
    initial_password: "Initial password",
    initial_password_hint: "Hand it over in person. At least 8 characters with a letter, a digit and a symbol.",
    add_button: "Add",
    role_admin: "Admin",
    role_doctor: "Doctor",
    role_staff: "Staff",
    member_added: "The member has been added.",
    member_disabled: "The member has been disabled and logged off.",
    role_changed: "The role has been changed.",
    sessions_ended: "All sessions of that member have been ended.",
    you: "(you)",
    nav_certificates: "Certificates",
    certificates_title: "Clinic certificates",
    certificates_intro: "The certificates installed on this clinic's computers. The service operator issues and revokes them; have a lost computer's certificate revoked at once.",
    cert_label: "Purpose",
    cert_serial: "Serial number",
    cert_until: "Valid until",
    cert_last_used: "Last used",
    cert_in_force: "In force",
    cert_expiring: "Expires soon",
    cert_revoked: "Revoked",
    cert_expired: "Expired",
    never: "Never",
    this_pc: "This computer",
    cert_warning: "A clinic certificate expires within 30 days. Ask the service operator for a new one.",
    operator_site: "Operator console",
    totp: "Code (6 digits)",
    totp_hint: "The 6-digit number your authenticator app shows.",
    home_operator: "You are logged in to the operator console. No patient data is shown here.",
    nav_clinics: "Clinics",
    nav_audit: "Access log",
    clinics_title: "Clinics",
    clinic_id: "Clinic id",
    active_members: "Active members",
    created: "Created",
    audit_title: "Access log",
    audit_intro: "Entries hold ids only, no personal data. This reading is recorded too.",
    from_day: "From",
    to_day: "To",
    principal: "Principal id",
    outcome: "Outcome",
    any: "Any",
    search: "Search",
    time: "Time",
    action: "Action",
    source: "Source",
    next_page: "Next page",
    no_entries: "No entries match.",
    announcements: "Notices from the service operator",
    security_notice: "Urgent security notice",
    effective_from: "Takes effect on",
    error_title: "Something went wrong",
    back_home: "Back to the start",
    nav_operator_access: "Operator access",
    operator_access_intro: "The service operator sees patient data only when an admin of this clinic approves it, or in an emergency (break-glass). Every operator access to this clinic and every record read during it is listed here (90 days).",
    no_grants: "No operator access so far.",
    grant_operator: "Operator",
    grant_kind: "Kind",
    grant_request: "Approved request",
    grant_break_glass: "Emergency (break-glass)",
    grant_scope: "Scope",
    scope_clinic: "Every patient of the clinic",
    scope_patient: "Patient id",
    grant_reason: "Reason",
    grant_minutes: "Minutes",
    minutes_unit: "min",
    grant_period: "Period",
    state_pending: "Waiting for approval",
    state_active: "Open now",
    state_ended: "Ended",
    state_refused: "Refused",
    state_lapsed: "Lapsed (not decided)",
    approve: "Approve",
    refuse: "Refuse",
    end_access: "End now",
    operator_actions: "What operators did and read",
    target: "Target",
    access_approved: "Access approved.",
    access_refused: "Access refused.",
    access_ended: "Access ended.",
    access_waiting: "Operator access needs your attention.",
    access_title: "Access to patient data",
    access_intro: "Patient data opens only with a clinic admin's approval (up to 8 hours) or by break-glass in an emergency (up to 4 hours; the admin is told at once). Do not name a patient in the reason.",
    ask_access: "Request approval",
    break_glass: "Emergency access (break-glass)",
    patient_id_hint: "Leave empty for every patient of the clinic.",
    access_requested: "Approval requested.",
    access_opened: "Emergency access is open; the clinic's admin has been told.",
    create_clinic: "Add a clinic",
    clinic_name: "Clinic name",
    create_button: "Add",
    terminations_title: "Clinics leaving",
    no_terminations: "No clinic is leaving.",
    termination_date: "Termination date",
    termination_state: "State",
    termination_pending: "Notice given (data kept; export possible)",
    termination_deleted: "Deleted",
    termination_hint: "On the clinic's written request, record and carry out a termination on the clinic's page (or on the command line: enshin clinic terminate ID --on DATE, then on or after that date --delete).",
    terminate_title: "Termination",
    terminate_intro: "On the clinic's written request, record its termination date. Until then the clinic works as usual and its admin can download all its data. On or after the date, deletion erases its data, destroys its key in every copy and writes a signed deletion certificate.",
    terminate_give: "Record the termination date",
    terminate_waits: "Deletion is possible on or after the termination date. The date can be changed.",
    terminate_due: "The termination date has come: the clinic's data can be deleted.",
    delete_confirm: "Type the clinic's id to confirm",
    delete_warning: "This cannot be undone: the data can never be restored. Make sure the clinic has received its data first.",
    delete_button: "Delete its data and write the deletion certificate",
    withdraw_button: "Withdraw the termination (the clinic asked to stay)",
    certificate_link: "Deletion certificate",
    suspensions_title: "Suspensions (incident mode)",
    no_suspensions: "Nothing is suspended.",
    suspend_scope: "What",
    whole_service: "The whole service",
    suspend_message: "Message shown to users",
    suspend_button: "Suspend",
    lift_button: "Resume",
    admin_email: "Administrator's e-mail address",
    admin_email_hint: "Break-glass notices and emergency accounts are sent here.",
    save: "Save",
    emergency_title: "Emergency accounts",
    emergency_intro: "Holds the clinic's normal IDs and issues emergency accounts. Their IDs and passwords go to the administrator's address and are never shown to operators. They expire by themselves and the normal IDs come back.",
    emergency_hours: "Hours (1–72)",
    emergency_admins: "Admins",
    emergency_doctors: "Doctors",
    emergency_staff: "Staff",
    emergency_start: "Issue emergency accounts",
    emergency_end: "End the emergency",
    emergency_until: "Emergency in force until",
    emergency_account: "Emergency",
    suspended_with: "Suspended",
    nav_announcements: "Announcements",
    announcement_kind: "Kind",
    kind_change: "Service change (14 days' notice)",
    kind_security: "Urgent security notice",
    announcement_title: "Title",
    announcement_text: "Text",
    effective_date: "Takes effect on",
    publish: "Publish",
    clinic_created: "Clinic added.",
    suspended_done: "Suspended; users see the message.",
    lifted: "Resumed.",
    contact_saved: "Address saved.",
    termination_noticed: "Termination date recorded.",
    termination_withdrawn: "Termination withdrawn: the clinic stays.",
    emergency_started: "Emergency accounts issued and sent to the administrator.",
    emergency_ended: "Emergency ended; the normal IDs work again.",
    announcement_published: "Announcement published.",
    forgot_link: "Forgot your password?",
    forgot_title: "Reset your password",
    forgot_intro_patient: "Enter your login ID and choose how to receive the code. A six-digit code goes to the e-mail address or mobile phone you proved (valid for 10 minutes).",
    forgot_intro_clinic: "Admins receive a reset link at their registered address (valid for 30 minutes). Other members: ask your clinic's admin to set a new password.",
    channel_label: "Where to receive it",
    channel_email: "E-mail",
    channel_sms: "SMS (mobile phone)",
    send_code: "Send the code",
    send_link: "Send the link",
    code_label: "Code (6 digits)",
    new_password: "New password",
    set_password: "Set the password",
    have_code: "I have a code",
    code_sent: "If the ID exists, a code is on its way. Enter it below.",
    link_sent: "If the ID belongs to an admin, a link is on its way.",
    password_reset: "Password set. Log in with the new password.",
    password_set: "Password set; the member was logged out.",
    set_member_password: "Set password",
    own_email: "Your e-mail address (for password resets)",
    save_email: "Save",
    email_saved: "Address saved.",
    verify_title: "Check your contact",
    verify_intro: "Check your contact so that you can receive a code when you forget your password.",
    verified: "Checked",
    not_verified: "Not checked",
    verify_button: "Confirm",
    contact_code_sent: "A code is on its way. Enter it below.",
    contact_verified: "Contact checked.",
    nav_patients: "Patients",
    patients_title: "Patients",
    add_patient: "Add a patient",
    add_patient_button: "Add",
    patient_added: "Patient added.",
    no_patients: "No patients yet.",
    link_state: "App link",
    linked: "Linked",
    not_linked: "Not linked",
    invite_button: "Make an invitation",
    invitation_title: "Link your enshin app to the clinic",
    invitation_text: "Scan the QR code with your phone, or log in to enshin and enter this code under My clinics. The code works once.",
    invitation_expires: "Valid until",
    print_hint: "Print this page and hand it to the patient. Making a new code makes this one stop working.",
    nav_my_clinics: "My clinics",
    my_clinics_title: "My clinics",
    no_clinics: "No clinic yet. Enter the code you received from your clinic.",
    link_code: "Invitation code (12 characters)",
    link_button: "Link",
    clinic_linked: "Linked to the clinic.",
    linked_since: "Linked on",
    clinic_code_label: "Clinic code",
    clinic_code_hint: "Patients use this code in the app to ask to join the clinic.",
    join_requests_title: "Requests to join",
    approve_new: "Approve as a new patient",
    approve_existing: "Approve as this patient",
    join_approved: "Request approved.",
    join_refused: "Request refused.",
    ask_join_title: "Ask a clinic by its code",
    ask_join_button: "Ask",
    join_requested: "Request sent. The clinic will confirm it.",
    state_approved: "Approved",
    time_zone_note: "Times are Japan time.",
};

impl Texts {
    /// The name of a role.
    pub fn role(&self, role: &str) -> &'static str {
        match role {
            "admin" => self.role_admin,
            "doctor" => self.role_doctor,
            _ => self.role_staff,
        }
    }

    /// The label of a form field, for "label: what is wrong".
    /// The label of a field named as in the API ("" for an unknown one).
    pub fn field(&self, field: &str) -> &'static str {
        match field {
            "login_id" => self.login_id,
            "password" => self.password,
            "family_name" => self.family_name,
            "given_name" => self.given_name,
            "family_name_kana" => self.family_name_kana,
            "given_name_kana" => self.given_name_kana,
            "birth_date" => self.birth_date,
            "email" => self.email,
            "phone" => self.phone,
            "name" => self.display_name,
            "role" => self.member_role,
            "reason" => self.grant_reason,
            "code" => self.code_label,
            "clinic_code" => self.clinic_code_label,
            "channel" => self.channel_label,
            "hours" => self.emergency_hours,
            "message" => self.suspend_message,
            "scope" => self.suspend_scope,
            "minutes" => self.grant_minutes,
            "patient_id" => self.scope_patient,
            "sex" => self.b.sex,
            "card_number" => self.b.card_number,
            "contact" => self.b.contact,
            other => self.m.field(other),
        }
    }

    /// What went wrong, for a person: in English the API's own message; in Japanese a
    /// translation by the error's code, rule or problem.
    pub fn error(&self, err: &ApiError) -> String {
        // The operator wrote this message for the users, in their words.
        if err.code == "suspended" {
            return err.message.clone();
        }
        if self.lang == Lang::En {
            // The API names fields as in JSON ("login_id: …"); a person reads the label.
            return match err.field {
                Some(field) => err.message.strip_prefix(&format!("{field}: ")).map_or_else(
                    || err.message.clone(),
                    |rest| format!("{}: {rest}", self.field(field)),
                ),
                None => err.message.clone(),
            };
        }
        let specific = match (err.code, err.rule, err.problem) {
            ("password_rejected", Some(rule), _) => password_rule_ja(rule),
            ("invalid_field" | "invalid_answer", _, Some(problem)) => problem_ja(problem),
            _ => None,
        };
        if let Some(text) = specific {
            let text = match &err.detail {
                Some(detail) => format!("{text} {detail}"),
                None => text.to_owned(),
            };
            return match err.field.map(|f| self.field(f)) {
                Some(label) if !label.is_empty() => format!("{label}: {text}"),
                _ => text,
            };
        }
        match err.code {
            "invalid_credentials" => "ログインIDかパスワードが違います。",
            "too_many_attempts" => {
                "ログインの失敗が続いたため、しばらく受け付けません。時間をおいてお試しください。"
            }
            "too_many_registrations" => {
                "このネットワークからの登録が多すぎるため、しばらく受け付けません。時間をおいてお試しください。"
            }
            "certificate_not_valid" => {
                "このパソコンのクリニック証明書は失効しているか、登録されていません。運用事業者に新しい証明書を依頼してください。"
            }
            "login_id_taken" => "このログインIDは使えません。別のIDを選んでください。",
            "terms_outdated" => "最新の利用規約に同意してください。",
            "terms_not_accepted" => "利用規約への同意が必要です。",
            "csrf" | "cross_site" => {
                "ページの有効期限が切れたか、別のサイトからの送信です。ページを開き直してもう一度お試しください。"
            }
            "own_account" => "自分自身のアカウントにはこの操作はできません。別の管理者に依頼してください。",
            "forbidden" => "この操作を行う権限がありません。",
            "not_found" => "お探しのページまたは情報は見つかりませんでした。",
            "password_too_long" => "パスワードが長すぎます。",
            "invalid_form" | "invalid_body" => "送信された内容を読み取れませんでした。入力内容を確認してください。",
            "unavailable" => "ただいまサービスを利用できません。少し時間をおいてお試しください。",
            "not_authenticated" => "ログインしてください。",
            "invalid_invitation" => "連携コードが違うか、使用済みか、有効期限が切れています。クリニックに新しいコードを依頼してください。",
            "no_such_clinic" => "このコードのクリニックは見つかりません。クリニックにコードをご確認ください。",
            "already_asked" => "このクリニックとはすでに連携しているか、申請が承認待ちです。",
            "not_open" => "この申請はすでに処理されたか、その患者は別のアカウントと連携しています。",
            "already_linked" => "このクリニックとはすでに連携しています。",
            "invalid_code" => "確認コードが違うか、使用済みか、有効期限が切れています。新しいコードを依頼してください。",
            "invalid_link" => "このリンクは無効か、使用済みか、有効期限が切れています。もう一度依頼してください。",
            "no_contact" => "この方法の連絡先は登録されていません。",
            "no_notice" => "利用終了日が記録されていません。先に利用終了日を記録してください。",
            "before_termination_date" => "利用終了日より前のため、まだ削除できません。それまでクリニックはデータをダウンロードできます。",
            "no_admin_contact" => "管理者の連絡先メールアドレスが未登録です。先に登録してください。",
            "emergency_in_force" => "このクリニックはすでに緊急対応中です。",
            "not_published" => "サービス仕様適合開示書はまだ公開されていません。",
            "busy" => "ほかの版を公開中です。もう一度お試しください。",
            "too_soon" => "サービス変更は適用日の14日以上前に告知する必要があります。",
            "no_access_grant" => "承認されたアクセスがないため、患者情報は表示できません。",
            "grant_not_open_to_this" => "このアクセスはすでに判断済みか、終了しています。",
            "card_number_taken" => "診察券番号: この番号は別の患者さんに使われています。",
            "invalid_csv" => "ファイルを読み取れません。1行目の列名と文字コード(UTF-8 か Shift_JIS)を確認してください。",
            "import_refused" => "誤りのある行があるため、何も取り込んでいません。",
            "slot_taken" => "この日時は、たった今ほかの予約で埋まりました。別の日時を選んでください。",
            "slot_not_offered" => "この日時は予約できません。空いている日時から選んでください。",
            "slot_past" => "この日時はすでに過ぎています。",
            "too_many_visits" => "このクリニックの予約がすでに5件あります。どれかをキャンセルするか、クリニックにご相談ください。",
            "too_late_to_change" => "変更・キャンセルの締切を過ぎています。クリニックへお電話ください。",
            "invalid_state_change" => "この予約の状態では、その操作はできません。",
            "appointment_changed" => "この予約は他の人が変更しました。画面を開き直してください。",
            "invalid_questionnaire" => "問診票の内容に誤りがあります(名前は1〜100文字、選択肢は2〜20個で重複なし、数値は最小が最大より小さいこと)。",
            "already_submitted" => "この問診票はすでに送信済みです。送信した内容は変更できません。",
            "version_changed" => "問診票が変更されました。開き直してください。",
            "too_many_photos" => "写真は10枚までです。",
            "invalid_photo" => "写真は JPEG か PNG で、5MB までにしてください。",
            "invalid_settings" => "締切は0〜10080分、タイムゾーンは正しい名前(例 Asia/Tokyo)にしてください。",
            "not_online" => "この予約は対面診療です。ビデオ通話はありません。",
            "call_closed" => "この予約は確定していないか、すでに終わっています。ビデオ通話には入れません。",
            "too_early" => "待合室は予約時刻の30分前から開きます。時間になったらもう一度開いてください。",
            "credential_missing" | "credential_unknown" | "credential_used" | "credential_expired" => {
                "通話の接続が切れました。ページを開き直してください。"
            }
            "credential_not_yours" | "credential_other_appointment" | "cross_origin" => {
                "この通話には入れません。"
            }
            "websocket_required" => "このアドレスは通話ページから使われます。",
            "plan_not_agreed" => "オンライン診療計画への同意がまだです。「診療計画」のページで内容を確認して同意すると、ビデオ診療に入れます。",
            "record_changed" => "この記録は他の人が変更しました。画面を開き直してください。",
            "not_your_note" => "この診療録を確定・編集できるのは担当の医師だけです。",
            "doctor_required" => "代行入力では、このクリニックの担当医師を選んでください。",
            "note_finalised" => "この診療録は確定済みです。変更は理由を添えた修正で行ってください。",
            "note_not_finalised" => "この診療録はまだ確定していません。",
            "note_in_error" => "この診療録は誤入力として取り消されています。",
            "visit_not_held" => "申込中・キャンセルの予約には診療録を書けません。",
            "note_empty" => "診療録が空です。",
            "outcome_required" => "オンライン診療の結果(完了・切り替え・中断)を選んでください。",
            "outcome_reason_required" => "切り替え・中断の理由を入力してください。",
            "identity_check_required" => "本人確認を記録してから確定してください。",
            "no_draft" => "提示する下書きがありません。先に保存してください。",
            "plan_incomplete" => "診療計画のすべての項目を入力してから提示してください。未入力の項目:",
            "plan_unchanged" => "現在の版と同じ内容です。項目を変更してから提示してください。",
            "plan_changed" => "診療計画が新しくなっています。最新の版を開き直して同意してください。",
            _ => "エラーが発生しました。もう一度お試しください。",
        }
        .to_owned()
    }
}

fn password_rule_ja(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "too_short" => "8文字以上にしてください。",
        "too_long" => "128文字以下にしてください。",
        "no_letter" => "英字を1文字以上含めてください。",
        "no_digit" => "数字を1文字以上含めてください。",
        "no_symbol" => "記号(! # % など、または空白)を1文字以上含めてください。",
        "control_character" => "改行やタブなどの制御文字は使えません。",
        "common" => {
            "よく使われている、または漏えいしたことのあるパスワードです。別のものにしてください。"
        }
        "contains_login_id" => "ログインIDを含まないパスワードにしてください。",
        _ => return None,
    })
}

fn problem_ja(problem: &str) -> Option<&'static str> {
    Some(match problem {
        "length" => "1〜50文字で入力してください。",
        "name_length" => "文字数が範囲外です。",
        "control_character" => "改行などの制御文字は使えません。",
        "not_kana" => "ひらがなかカタカナで入力してください。",
        "date_past" => "今日以降(日本時間)の日付を入力してください。",
        "confirm_mismatch" => "確認のため、クリニックIDを正確に入力してください。",
        "date_format" => "年-月-日(例 1950-04-01)の形で入力してください。",
        "no_such_date" => "存在しない日付です。",
        "date_range" => "1900年1月1日から今日までの日付を入力してください。",
        "email" => "メールアドレスの形式ではありません。",
        "phone" => "電話番号の形式ではありません(10〜15桁、例 090-1234-5678)。",
        "no_contact" => "メールアドレスか携帯電話番号のどちらかを入力してください。",
        "login_id_length" => "4〜64文字にしてください。",
        "login_id_character" => "半角の英小文字・数字と . _ - @ だけが使えます。",
        "role" => "管理者・医師・スタッフのいずれかを選んでください。",
        "grant_reason" => "1〜500文字で入力してください。",
        "grant_minutes" => "依頼は1〜480分、緊急アクセスは1〜240分で指定してください。",
        "grant_patient_id" => "患者IDの形式ではありません。",
        "sex" => "男・女・その他・不明のいずれかを入力してください。",
        "card_number" => "診察券番号は半角英数字とハイフンで20文字以内にしてください。",
        "contact" => "電話番号かメールアドレスを入力してください。",
        "card_number_twice" => "同じ診察券番号がファイルの別の行にもあります。",
        "card_number_taken" => "この診察券番号は別の患者さんに使われています。",
        "unreadable" => "この行はCSVとして読み取れません(引用符を確認してください)。",
        "columns" => "列の数が8ではありません。",
        "not_a_number" => "数字で入力してください。",
        "too_precise" => "小数点以下の桁数が多すぎます。",
        "out_of_range" => "範囲外の値です。次の範囲で入力してください:",
        "pressure_order" => "下(最低血圧)は上(最高血圧)より小さい値にしてください。",
        "pressure_pair" => "血圧は上と下の両方を入力してください。",
        "empty" => "少なくとも1つの項目を入力してください。",
        "future" => "未来の日時は入力できません。",
        "too_old" => "2000年より前の日時です。機器の時計を確認してください。",
        "bad_time" => "日時の形式ではありません。",
        "bad_note" => "メモは200文字以内にしてください。",
        "bad_phone" => "電話番号は数字とハイフンで、6〜20桁にしてください(例 03-1234-5678)。",
        "bad_zone" => "タイムゾーンの名前ではありません(例 Asia/Tokyo)。",
        "bad_name" => "機器の名前は1〜40文字にしてください。",
        "bounds_empty" => "上限か下限の少なくとも一方を入力してください。",
        "bounds_crossed" => "下限は上限より小さい値にしてください。",
        "bounds_value" => "範囲外の値です。次の範囲で入力してください:",
        "bad_comment" => "対応内容を1〜400文字で入力してください。",
        "answer_unknown" => "この問診票にない質問です。",
        "answer_required" => "回答が必要な質問です。",
        "answer_shape" => "この質問の答え方ではありません。",
        "answer_choice" => "選択肢から選んでください。",
        "answer_number" => "次の範囲の数値で入力してください(小数は2桁まで):",
        "answer_date" => "年-月-日の形で、今日までの日付を入力してください。",
        "answer_text" => "400文字以内で入力してください。",
        "photo" => "写真は JPEG か PNG で、5MB までにしてください。",
        "too_long" => "文字数が多すぎます(各欄4000文字、理由は400文字まで)。",
        "control_characters" => "使えない制御文字が含まれています。",
        "required" => "入力してください。",
        "unknown_method" => "本人確認の方法を選んでください。",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use enshin_core::password::PasswordRule;

    #[test]
    fn every_password_rule_and_field_problem_has_a_japanese_text() {
        let rules = [
            PasswordRule::TooShort,
            PasswordRule::TooLong,
            PasswordRule::NoLetter,
            PasswordRule::NoDigit,
            PasswordRule::NoSymbol,
            PasswordRule::ControlCharacter,
            PasswordRule::Common,
            PasswordRule::ContainsLoginId,
        ];
        for rule in rules {
            assert!(password_rule_ja(rule.code()).is_some(), "{rule:?}");
        }
        use enshin_core::patient::Problem::*;
        for problem in [
            Length,
            ControlCharacter,
            NotKana,
            DateFormat,
            NoSuchDate,
            DateRange,
            Email,
            Phone,
            NoContact,
            Sex,
            CardNumber,
            Contact,
        ] {
            assert!(problem_ja(problem.code()).is_some(), "{problem:?}");
        }
    }

    #[test]
    fn japanese_errors_name_the_field_and_english_ones_keep_the_api_message() {
        let err = ApiError::from(PasswordRule::NoDigit);
        assert_eq!(
            JA.error(&err),
            "パスワード: 数字を1文字以上含めてください。"
        );
        assert_eq!(EN.error(&err), "the password must contain a digit");
        let login_id = ApiError::from(enshin_core::people::LoginIdError::Length);
        assert_eq!(
            EN.error(&login_id),
            "Login ID: a login ID has 4 to 64 characters"
        );
        let unknown = ApiError::new(StatusCode::IM_A_TEAPOT, "teapot", "short and stout");
        assert_eq!(
            JA.error(&unknown),
            "エラーが発生しました。もう一度お試しください。"
        );
    }
}
