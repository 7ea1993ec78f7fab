//! The words of the clinical record pages (visit notes, the consultation plan, the print view),
//! Japanese and English (a part of [`super::texts::Texts`]).

/// Record texts in one language.
pub struct RecordTexts {
    /// Patient menu: the consultation plans.
    pub nav_plans: &'static str,
    /// Heading of a visit's note.
    pub note_title: &'static str,
    /// Link from a visit to its note.
    pub note_link: &'static str,
    /// Heading of the consultation plan.
    pub plan_title: &'static str,
    /// Link from a patient to their plan.
    pub plan_link: &'static str,
    /// Link to the print view of a patient's record.
    pub print_link: &'static str,
    /// Heading of the print view.
    pub print_title: &'static str,
    /// Explains the print view.
    pub print_hint: &'static str,
    /// Label: when the print view was made.
    pub printed_at: &'static str,
    /// Link from an exported record back to the export's index.
    pub export_index: &'static str,
    /// Column: what was measured.
    pub reading_kind: &'static str,
    /// Column: the measured value.
    pub reading_value: &'static str,
    /// Column: how a reading came in.
    pub reading_source: &'static str,
    /// SOAP S.
    pub subjective: &'static str,
    /// SOAP O.
    pub objective: &'static str,
    /// SOAP A.
    pub assessment: &'static str,
    /// SOAP P.
    pub soap_plan: &'static str,
    /// Label: the outcome of an online visit.
    pub outcome: &'static str,
    /// Choice: no outcome yet.
    pub outcome_unset: &'static str,
    /// Outcome: completed online.
    pub outcome_completed: &'static str,
    /// Outcome: switched to in person.
    pub outcome_switched: &'static str,
    /// Outcome: aborted.
    pub outcome_aborted: &'static str,
    /// Label: why switched or aborted.
    pub outcome_reason: &'static str,
    /// Heading: the identity check.
    pub identity: &'static str,
    /// No identity check yet.
    pub identity_none: &'static str,
    /// Button: record the identity check.
    pub identity_record: &'static str,
    /// Method: a known patient.
    pub m_known_patient: &'static str,
    /// Method: photo ID.
    pub m_photo_id: &'static str,
    /// Method: two IDs.
    pub m_two_ids: &'static str,
    /// Method: ID and questions.
    pub m_id_and_questions: &'static str,
    /// Label: the doctor a proxy draft is for.
    pub for_doctor: &'static str,
    /// Button: save the draft.
    pub save_draft: &'static str,
    /// Button: finalise.
    pub finalise: &'static str,
    /// Button: approve a proxy draft.
    pub approve: &'static str,
    /// Button: amend.
    pub amend: &'static str,
    /// Heading of the amendment form.
    pub amend_title: &'static str,
    /// Label: reason.
    pub reason: &'static str,
    /// Button: mark as entered in error.
    pub in_error: &'static str,
    /// Explains entered in error.
    pub in_error_hint: &'static str,
    /// State: draft.
    pub state_draft: &'static str,
    /// State: proxy draft awaiting approval.
    pub state_awaiting: &'static str,
    /// State: final.
    pub state_final: &'static str,
    /// State: entered in error.
    pub state_in_error: &'static str,
    /// Heading: the versions.
    pub history: &'static str,
    /// Label: version.
    pub version: &'static str,
    /// Version kind: original.
    pub kind_original: &'static str,
    /// Version kind: amendment.
    pub kind_amendment: &'static str,
    /// Version kind: entered in error.
    pub kind_in_error: &'static str,
    /// Label: the signing doctor.
    pub signed_by: &'static str,
    /// Label: proxy author.
    pub entered_by: &'static str,
    /// Label: time.
    pub at: &'static str,
    /// Label: the call.
    pub call: &'static str,
    /// The call never started.
    pub call_none: &'static str,
    /// No note yet.
    pub no_note: &'static str,
    /// Mode: online.
    pub visit_online: &'static str,
    /// Mode: in person.
    pub visit_in_person: &'static str,
    /// Plan item.
    pub i_conditions_and_treatment: &'static str,
    /// Plan item.
    pub i_combination: &'static str,
    /// Plan item.
    pub i_schedule: &'static str,
    /// Plan item.
    pub i_method_and_devices: &'static str,
    /// Plan item.
    pub i_switch_to_in_person: &'static str,
    /// Plan item.
    pub i_patient_cooperation: &'static str,
    /// Plan item.
    pub i_emergency_policy: &'static str,
    /// Plan item.
    pub i_emergency_institution: &'static str,
    /// Plan item.
    pub i_emergency_phone: &'static str,
    /// Plan item.
    pub i_doctors: &'static str,
    /// Plan item.
    pub i_security: &'static str,
    /// No plan yet.
    pub plan_none: &'static str,
    /// The draft is not shown to the patient.
    pub plan_draft_hint: &'static str,
    /// Button: offer the plan.
    pub offer: &'static str,
    /// Button: attest a verbal agreement.
    pub verbal: &'static str,
    /// State: agreed.
    pub agreed: &'static str,
    /// State: not agreed.
    pub not_agreed: &'static str,
    /// Heading: agreements.
    pub agreements: &'static str,
    /// Agreement by the patient.
    pub method_patient: &'static str,
    /// Verbal agreement.
    pub method_verbal: &'static str,
    /// Label: the current version.
    pub current_version: &'static str,
    /// Label: who offered a version.
    pub offered_by: &'static str,
    /// Explains the patient's plans page.
    pub my_plans_intro: &'static str,
    /// Button: agree.
    pub agree: &'static str,
    /// The current version awaits agreement.
    pub agree_needed: &'static str,
    /// The patient agreed on.
    pub agreed_on: &'static str,
    /// Heading: earlier versions.
    pub earlier: &'static str,
    /// The patient has no plans.
    pub no_plans: &'static str,
    /// Setting: calls need an agreed plan.
    pub plan_required: &'static str,
    /// Notice: saved.
    pub saved: &'static str,
}

/// Japanese.
pub static JA: RecordTexts = RecordTexts {
    nav_plans: "診療計画",
    note_title: "診療録",
    note_link: "診療録",
    plan_title: "オンライン診療計画",
    plan_link: "診療計画",
    print_link: "記録を印刷",
    print_title: "診療記録",
    print_hint: "ブラウザの印刷機能で、紙またはPDFにできます。",
    printed_at: "作成日時",
    export_index: "データ一式の目次へ",
    reading_kind: "項目",
    reading_value: "値",
    reading_source: "入力",
    subjective: "S(主訴・患者さんの訴え)",
    objective: "O(所見)",
    assessment: "A(評価)",
    soap_plan: "P(方針)",
    outcome: "オンライン診療の結果",
    outcome_unset: "(未選択)",
    outcome_completed: "オンラインで完了",
    outcome_switched: "対面診療に切り替え",
    outcome_aborted: "中断(通信障害など)",
    outcome_reason: "切り替え・中断の理由",
    identity: "本人確認",
    identity_none: "本人確認はまだ記録されていません。オンライン診療の診療録は、本人確認を記録するまで確定できません。",
    identity_record: "本人確認を記録",
    m_known_patient: "以前から診ている患者さん(顔で確認)",
    m_photo_id: "顔写真付きの身分証をカメラで確認",
    m_two_ids: "顔写真のない身分証2点で確認",
    m_id_and_questions: "身分証1点と本人しか知らない質問で確認",
    for_doctor: "担当医師(代行入力)",
    save_draft: "下書きを保存",
    finalise: "確定する",
    approve: "内容を確認して承認・確定",
    amend: "修正を保存(新しい版)",
    amend_title: "確定後の修正",
    reason: "理由",
    in_error: "誤入力として取り消す",
    in_error_hint: "取り消しても記録は削除されず、履歴に残ります。",
    state_draft: "下書き",
    state_awaiting: "医師の承認待ち(代行入力)",
    state_final: "確定",
    state_in_error: "誤入力として取り消し",
    history: "履歴(すべての版)",
    version: "版",
    kind_original: "確定",
    kind_amendment: "修正",
    kind_in_error: "誤入力取り消し",
    signed_by: "確定した医師",
    entered_by: "代行入力者",
    at: "日時",
    call: "ビデオ通話",
    call_none: "通話の記録なし",
    no_note: "この予約の診療録はまだありません。",
    visit_online: "オンライン診療",
    visit_in_person: "対面診療",
    i_conditions_and_treatment: "対象となる疾患と治療内容",
    i_combination: "オンライン診療と対面診療・検査の組み合わせ(頻度など)",
    i_schedule: "診療の時間帯・頻度",
    i_method_and_devices: "診療の方法と使う機器",
    i_switch_to_in_person: "オンライン診療をやめて対面診療に切り替える条件(通信障害の場合を含む)",
    i_patient_cooperation: "患者さんに協力していただくこと",
    i_emergency_policy: "急変時の対応方針",
    i_emergency_institution: "緊急時の医療機関",
    i_emergency_phone: "緊急時の医療機関の電話番号",
    i_doctors: "診療にあたる医師とその役割",
    i_security: "情報セキュリティの責任の分担",
    plan_none: "この患者さんの診療計画はまだありません。",
    plan_draft_hint: "下書きは患者さんには見えません。すべての項目を入力すると提示できます。",
    offer: "この内容を患者さんに提示(新しい版)",
    verbal: "口頭で同意を得たことを記録",
    agreed: "同意済み",
    not_agreed: "未同意",
    agreements: "同意の記録",
    method_patient: "患者さん本人がアプリで同意",
    method_verbal: "口頭で同意(医師が記録)",
    current_version: "現在の版",
    offered_by: "提示した医師",
    my_plans_intro: "オンライン診療を受ける前に、クリニックが作成した診療計画を確認して同意してください。同意した版はいつでもここで見られます。",
    agree: "この診療計画に同意する",
    agree_needed: "新しい診療計画です。内容を確認して、同意してください。",
    agreed_on: "同意日時",
    earlier: "以前の版",
    no_plans: "まだ診療計画はありません。",
    plan_required: "ビデオ診療の前に、診療計画への患者さんの同意を必須にする",
    saved: "保存しました。",
};

/// English.
pub static EN: RecordTexts = RecordTexts {
    nav_plans: "Care plans",
    note_title: "Visit note",
    note_link: "Note",
    plan_title: "Online consultation plan",
    plan_link: "Care plan",
    print_link: "Print record",
    print_title: "Clinical record",
    print_hint: "Use the browser's print function to print it or save it as PDF.",
    printed_at: "Made at",
    export_index: "Back to the export's index",
    reading_kind: "Measurement",
    reading_value: "Value",
    reading_source: "Entered by",
    subjective: "S (subjective)",
    objective: "O (objective)",
    assessment: "A (assessment)",
    soap_plan: "P (plan)",
    outcome: "Outcome of the online visit",
    outcome_unset: "(not chosen)",
    outcome_completed: "Completed online",
    outcome_switched: "Switched to in person",
    outcome_aborted: "Aborted (connection failure etc.)",
    outcome_reason: "Why switched or aborted",
    identity: "Identity check",
    identity_none: "No identity check is recorded yet. An online visit's note cannot be finalised before it is.",
    identity_record: "Record identity check",
    m_known_patient: "Known patient (recognised)",
    m_photo_id: "Photo ID shown on camera",
    m_two_ids: "Two IDs without photo",
    m_id_and_questions: "One ID and personal questions",
    for_doctor: "Doctor (entry on their behalf)",
    save_draft: "Save draft",
    finalise: "Finalise",
    approve: "Approve and finalise",
    amend: "Save amendment (new version)",
    amend_title: "Amend after finalising",
    reason: "Reason",
    in_error: "Mark as entered in error",
    in_error_hint: "Nothing is deleted: the note stays in the history.",
    state_draft: "Draft",
    state_awaiting: "Awaiting the doctor's approval (proxy entry)",
    state_final: "Final",
    state_in_error: "Entered in error",
    history: "History (every version)",
    version: "Version",
    kind_original: "Finalised",
    kind_amendment: "Amendment",
    kind_in_error: "Entered in error",
    signed_by: "Signed by",
    entered_by: "Entered by",
    at: "At",
    call: "Video call",
    call_none: "No call recorded",
    no_note: "This visit has no note yet.",
    visit_online: "Online visit",
    visit_in_person: "In-person visit",
    i_conditions_and_treatment: "Conditions and treatment",
    i_combination: "How online and in-person visits and tests combine (frequency)",
    i_schedule: "When visits take place",
    i_method_and_devices: "Method and devices",
    i_switch_to_in_person: "When online care stops and you come in person (including connection failure)",
    i_patient_cooperation: "What you do to make online care work",
    i_emergency_policy: "What happens in an emergency",
    i_emergency_institution: "Emergency institution",
    i_emergency_phone: "Emergency institution's telephone",
    i_doctors: "The doctors involved and when each acts",
    i_security: "Who is responsible for what in security",
    plan_none: "This patient has no plan yet.",
    plan_draft_hint: "The draft is not shown to the patient. Every item must be filled in before it is offered.",
    offer: "Offer to the patient (new version)",
    verbal: "Record a verbal agreement",
    agreed: "Agreed",
    not_agreed: "Not agreed",
    agreements: "Agreements",
    method_patient: "By the patient in the app",
    method_verbal: "Verbally (recorded by a doctor)",
    current_version: "Current version",
    offered_by: "Offered by",
    my_plans_intro: "Before online visits, read the plan your clinic made and agree to it. The versions you agreed to stay here for you to read.",
    agree: "I agree to this plan",
    agree_needed: "This is a new plan. Please read it and agree.",
    agreed_on: "Agreed on",
    earlier: "Earlier versions",
    no_plans: "You have no care plan yet.",
    plan_required: "Video calls need the patient's agreement to the current plan",
    saved: "Saved.",
};
