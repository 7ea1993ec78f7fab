//! The words of the disclosure pages and the clinic's public page, Japanese and English (a part
//! of [`super::texts::Texts`]). The document's own words come with it from the catalogue.

/// Disclosure and public-page texts in one language.
pub struct DisclosureTexts {
    /// Menu item and heading of the console page.
    pub nav: &'static str,
    /// Hint above the live document.
    pub live_hint: &'static str,
    /// Button: publish what is shown as the next revision.
    pub publish: &'static str,
    /// Hint beside the button.
    pub publish_hint: &'static str,
    /// Heading: the revision history.
    pub history: &'static str,
    /// Column: revision.
    pub revision: &'static str,
    /// Column: when.
    pub published_at: &'static str,
    /// Column: by whom.
    pub published_by: &'static str,
    /// Column: conformance.
    pub conformance: &'static str,
    /// Column: signature.
    pub signature: &'static str,
    /// A revision without a non-conformance.
    pub conformant: &'static str,
    /// A revision with one.
    pub not_conformant: &'static str,
    /// The signature verifies.
    pub signature_ok: &'static str,
    /// It does not.
    pub signature_bad: &'static str,
    /// Link: the signed JSON.
    pub signed_json: &'static str,
    /// No revision yet.
    pub none_yet: &'static str,
    /// Notice after publishing.
    pub published: &'static str,
    /// Link to the current disclosure.
    pub current: &'static str,
    /// Heading of a clinic's public page, after its name.
    pub about: &'static str,
    /// The clinic's statement of compliance with the guideline.
    pub guideline: &'static str,
    /// Heading: contact point.
    pub contact: &'static str,
    /// No contact number recorded.
    pub no_contact: &'static str,
    /// Heading: doctors.
    pub doctors: &'static str,
    /// No doctor recorded.
    pub no_doctors: &'static str,
    /// Heading: security for patients.
    pub security: &'static str,
    /// The security explanation, point by point.
    pub security_points: [&'static str; 6],
    /// Heading: where the information is kept.
    pub storage: &'static str,
    /// Where it is kept (§11-②); `{place}` is replaced.
    pub storage_text: &'static str,
    /// The place when the operator did not declare one.
    pub storage_unknown: &'static str,
    /// Link: book a visit.
    pub book: &'static str,
}

/// Japanese.
pub const JA: DisclosureTexts = DisclosureTexts {
    nav: "適合開示書",
    live_hint: "この内容はいま稼働中の設定と状態から生成し、ソフトウェアで確認できる項目はこの時点で確認しました。",
    publish: "この内容を新しい版として公開する",
    publish_hint: "公開した版は署名して保存し、医療機関と患者に公開されます。版は変更・削除できません。",
    history: "改訂履歴",
    revision: "版",
    published_at: "公開日時",
    published_by: "公開者",
    conformance: "適合状況",
    signature: "署名",
    conformant: "不適合なし",
    not_conformant: "不適合あり",
    signature_ok: "検証済み",
    signature_bad: "一致しません",
    signed_json: "署名付きJSON",
    none_yet: "まだ公開した版はありません。",
    published: "適合開示書の新しい版を公開しました。",
    current: "サービス仕様適合開示書(最新版)",
    about: "オンライン診療について",
    guideline: "当院は、厚生労働省「オンライン診療の適切な実施に関する指針」に沿ってオンライン診療を行います。初めての方や症状によっては対面での診療をお願いすることがあります。",
    contact: "お問い合わせ先",
    no_contact: "電話番号は登録されていません。",
    doctors: "オンライン診療を担当する医師",
    no_doctors: "担当医師は登録されていません。",
    security: "安全にご利用いただくために",
    security_points: [
        "通信はすべて暗号化(TLS)されています。ブラウザのアドレス欄に鍵のマークがあることを確かめてください。",
        "パスワードは8文字以上で、英字・数字・記号を含めてください。他の人に教えないでください。",
        "診療の始めに、医師がご本人であることを確認します。",
        "ビデオ通話は録画・録音しません。周りに人がいない場所でお受けください。",
        "共用の端末をお使いのときは、終わったら必ずログアウトしてください。",
        "当院やサービスからのメールやSMSに、病名や検査結果などの情報は書かれません。",
    ],
    storage: "情報の保存場所",
    storage_text: "診療の情報は、当院ではなく本サービス(外部の事業者)の設備に暗号化して保存されます。保存場所: {place}。",
    storage_unknown: "運営者が記載していません",
    book: "予約する(ログインが必要です)",
};

/// English.
pub const EN: DisclosureTexts = DisclosureTexts {
    nav: "Conformance disclosure",
    live_hint: "Generated from the configuration and state in force right now; every statement software can check was checked at this moment.",
    publish: "Publish this as a new revision",
    publish_hint: "A published revision is signed, kept, and shown to clinics and patients. Revisions cannot be changed or deleted.",
    history: "Revision history",
    revision: "Revision",
    published_at: "Published",
    published_by: "By",
    conformance: "Conformance",
    signature: "Signature",
    conformant: "no non-conformance",
    not_conformant: "non-conformance",
    signature_ok: "verified",
    signature_bad: "does not match",
    signed_json: "signed JSON",
    none_yet: "No revision has been published yet.",
    published: "A new revision of the conformance disclosure was published.",
    current: "Service conformance disclosure (current revision)",
    about: "Online consultations",
    guideline: "This clinic provides online consultations following the Ministry of Health, Labour and Welfare's guideline on the appropriate conduct of online medical care. A first visit, or some symptoms, may need a visit in person.",
    contact: "Contact",
    no_contact: "No telephone number is recorded.",
    doctors: "Doctors for online consultations",
    no_doctors: "No doctor is recorded.",
    security: "Using the service safely",
    security_points: [
        "Every connection is encrypted (TLS). Check for the lock in your browser's address bar.",
        "Use a password of at least 8 characters with letters, digits and symbols, and tell no one.",
        "At the start of a consultation the doctor confirms that you are you.",
        "Video calls are not recorded. Take them where no one else can listen.",
        "On a shared device, always log out when you are done.",
        "E-mail and SMS from the clinic or the service never contain diagnoses, results or other health information.",
    ],
    storage: "Where your information is kept",
    storage_text: "Your consultation information is kept encrypted not at the clinic but in this service's facilities (an outside provider). Location: {place}.",
    storage_unknown: "not stated by the operator",
    book: "Book a visit (log-in needed)",
};
