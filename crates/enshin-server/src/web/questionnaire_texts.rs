//! The words of the questionnaire pages (builder, asking, answering, reading), Japanese and
//! English (a part of [`super::texts::Texts`]).

/// Questionnaire texts in one language.
pub struct QuestionnaireTexts {
    /// Navigation and heading.
    pub nav: &'static str,
    /// Heading of a patient's list.
    pub mine: &'static str,
    /// Nothing asked.
    pub none: &'static str,
    /// States: requested, draft, submitted.
    pub states: [&'static str; 3],
    /// Link: answer.
    pub answer: &'static str,
    /// Link: open.
    pub open: &'static str,
    /// Button: save a draft.
    pub save_draft: &'static str,
    /// Button: submit.
    pub submit: &'static str,
    /// Explains submission.
    pub submit_hint: &'static str,
    /// Yes.
    pub yes: &'static str,
    /// No.
    pub no: &'static str,
    /// Marks a required question.
    pub required: &'static str,
    /// A photo is attached.
    pub photo_kept: &'static str,
    /// Unanswered.
    pub unanswered: &'static str,
    /// Label: staff title.
    pub staff_title: &'static str,
    /// Label: patient title.
    pub patient_title: &'static str,
    /// Heading: new questionnaire.
    pub new: &'static str,
    /// Button: create.
    pub create: &'static str,
    /// Label: question.
    pub question: &'static str,
    /// Label: type.
    pub kind: &'static str,
    /// Names of the types: yes_no, single, multiple, number, date, text, photo.
    pub kinds: [&'static str; 7],
    /// Label: choices.
    pub choices: &'static str,
    /// Hint under choices.
    pub choices_hint: &'static str,
    /// Label: unit.
    pub unit: &'static str,
    /// Label: lowest.
    pub min: &'static str,
    /// Label: highest.
    pub max: &'static str,
    /// Heading and button: add a question.
    pub add_question: &'static str,
    /// Button: remove.
    pub remove: &'static str,
    /// Button: save titles.
    pub save_titles: &'static str,
    /// Label: version.
    pub version: &'static str,
    /// Explains versions.
    pub versions_hint: &'static str,
    /// Heading: ask the patient.
    pub ask: &'static str,
    /// Button: ask.
    pub ask_button: &'static str,
    /// Label: submitted at.
    pub submitted_at: &'static str,
    /// Label: asked at.
    pub asked_at: &'static str,
    /// Notices.
    pub saved: &'static str,
    /// Notice.
    pub submitted: &'static str,
    /// Notice.
    pub asked: &'static str,
    /// Notice.
    pub changed: &'static str,
}

impl QuestionnaireTexts {
    /// The name of a question type by its API name.
    pub fn kind_name(&self, api: &str) -> &'static str {
        let i = [
            "yes_no", "single", "multiple", "number", "date", "text", "photo",
        ]
        .iter()
        .position(|k| *k == api)
        .unwrap_or(5);
        self.kinds[i]
    }
}

/// 日本語.
pub static JA: QuestionnaireTexts = QuestionnaireTexts {
    nav: "問診票",
    mine: "問診票",
    none: "回答をお願いしている問診票はありません。",
    states: ["未回答", "回答途中", "送信済み"],
    answer: "回答する",
    open: "見る",
    save_draft: "一時保存",
    submit: "送信する",
    submit_hint: "送信すると内容は変更できません。途中でやめるときは「一時保存」を押してください。",
    yes: "はい",
    no: "いいえ",
    required: "必須",
    photo_kept: "写真を受け取りました",
    unanswered: "(未回答)",
    staff_title: "名前(スタッフ用)",
    patient_title: "タイトル(患者さん向け)",
    new: "新しい問診票",
    create: "作成",
    question: "質問",
    kind: "回答の種類",
    kinds: [
        "はい/いいえ",
        "ひとつ選ぶ",
        "いくつでも選ぶ",
        "数値",
        "日付",
        "自由記述",
        "写真",
    ],
    choices: "選択肢",
    choices_hint: "1行に1つ(選ぶ形式のとき)",
    unit: "単位",
    min: "最小",
    max: "最大",
    add_question: "質問を追加",
    remove: "削除",
    save_titles: "名前を保存",
    version: "版",
    versions_hint: "回答がある問診票を変えると新しい版になり、これまでの回答は元の版のまま残ります。",
    ask: "問診を依頼",
    ask_button: "依頼する",
    submitted_at: "送信",
    asked_at: "依頼",
    saved: "一時保存しました。",
    submitted: "送信しました。ありがとうございました。",
    asked: "問診票の回答を依頼しました。",
    changed: "問診票を保存しました。",
};

/// English.
pub static EN: QuestionnaireTexts = QuestionnaireTexts {
    nav: "Questionnaires",
    mine: "Questionnaires",
    none: "No questionnaire is waiting for you.",
    states: ["not answered", "in progress", "sent"],
    answer: "Answer",
    open: "Open",
    save_draft: "Save for later",
    submit: "Send",
    submit_hint: "Once sent, the answers cannot be changed. To stop half-way, press \"Save for later\".",
    yes: "Yes",
    no: "No",
    required: "required",
    photo_kept: "Photo received",
    unanswered: "(not answered)",
    staff_title: "Name (for staff)",
    patient_title: "Title (for patients)",
    new: "New questionnaire",
    create: "Create",
    question: "Question",
    kind: "Answer type",
    kinds: [
        "Yes/no",
        "One choice",
        "Any choices",
        "Number",
        "Date",
        "Free text",
        "Photo",
    ],
    choices: "Choices",
    choices_hint: "One per line (for the choice types)",
    unit: "Unit",
    min: "Lowest",
    max: "Highest",
    add_question: "Add a question",
    remove: "Remove",
    save_titles: "Save the names",
    version: "Version",
    versions_hint: "Changing a questionnaire that has answers makes a new version; earlier answers stay with theirs.",
    ask: "Ask to answer",
    ask_button: "Ask",
    submitted_at: "Sent",
    asked_at: "Asked",
    saved: "Saved for later.",
    submitted: "Sent. Thank you.",
    asked: "The patient was asked to answer.",
    changed: "The questionnaire was saved.",
};
