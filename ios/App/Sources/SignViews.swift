// 取引確認: the scanned transfer (振込先, 金額 large), the code for it with its countdown, the
// manual mode's form and the refusals. What each tap does is the core's (crates/core/src/app).
import SwiftUI
import SoftTokenKit

/// The transfer as the bank's screen shows it: 振込先 and 金額 large, then the masked account.
struct TransferCard: View {
    let transfer: TransferView

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(L("label_sign_payee")).font(.caption)
            Text(transfer.payeeName).font(.system(size: 28, weight: .bold))
            Text(L("label_sign_account")).font(.caption)
            Text(transfer.maskedAccount).font(.system(.title3, design: .monospaced))
            Text(L("label_sign_amount")).font(.caption)
            Text(transfer.displayAmount).font(.system(size: 36, weight: .bold)).foregroundStyle(.tint)
        }
        .frame(maxWidth: .infinity, alignment: .leading)
        .padding()
        .background(.thinMaterial, in: RoundedRectangle(cornerRadius: 12))
    }
}

/// Check the transfer, then confirm: the code is made only after this.
struct SignConfirmView: View {
    let transfer: TransferView
    let token: TokenSummary
    let act: Act

    var body: some View {
        ScrollView {
            VStack(alignment: .leading, spacing: 16) {
                TransferCard(transfer: transfer)
                Text("\(L("label_sign_token")): \(token.issuer)  \(token.serialGrouped)")
                Text(L("sign_confirm_hint"))
                Button(L("action_sign_confirm")) { act(.confirmTransfer) }
                    .buttonStyle(.borderedProminent)
                Button(L("action_sign_cancel")) { act(.finishSign) }
            }
            .padding()
        }
        .navigationTitle(L("title_sign"))
        .navigationBarBackButtonHidden(true)
        .toolbar { BackButton(act: act) }
    }
}

/// Manual mode: the digits typed from the bank's screen.
struct SignManualView: View {
    let token: TokenSummary
    let error: AppMessage?
    let act: Act
    @State private var digits = ""

    var body: some View {
        Form {
            Text("\(token.issuer)  \(token.serialGrouped)").font(.headline)
            Text(L("sign_manual_hint"))
            TextField(L("label_sign_digits"), text: $digits)
                .keyboardType(.numberPad)
                .font(.system(.title3, design: .monospaced))
            ErrorLine(message: error)
            Button(L("action_sign_show_code")) {
                let typed = digits
                act(.submitTypedDigits(digits: typed))
            }
        }
        .navigationTitle(L("title_sign_manual"))
        .navigationBarBackButtonHidden(true)
        .toolbar { BackButton(act: act) }
    }
}

/// The code for this one transfer, large, with the time it stays on screen.
struct SignCodeView: View {
    let transfer: TransferView?
    let typedDigits: String?
    /// Nil once the code's time is up.
    let code: ShownDigits?
    /// `4:58`, and the part of the time left for the bar.
    let countdown: String
    let remaining: Float
    let act: Act

    var body: some View {
        ScrollView {
            VStack(spacing: 16) {
                if let transfer { TransferCard(transfer: transfer) }
                if let typed = typedDigits {
                    Text("\(L("label_sign_typed")): \(typed)").font(.system(.body, design: .monospaced))
                }
                if let code {
                    Text(code.grouped())
                        .font(.system(size: 44, weight: .bold, design: .monospaced))
                        .accessibilityLabel("\(L("label_code")) \(code.spoken())")
                    Text(L("sign_code_hint"))
                    Text("\(L("label_sign_time_left")) \(countdown)")
                        .font(.system(.title3, design: .monospaced))
                    ProgressView(value: Double(remaining))
                } else {
                    Text(L("sign_code_expired")).foregroundStyle(.red)
                }
                Button(L("action_sign_done")) { act(.finishSign) }
                    .buttonStyle(.borderedProminent)
            }
            .padding()
        }
        .navigationTitle(L("title_sign"))
        .navigationBarBackButtonHidden(true)
        .toolbar { BackButton(act: act) }
    }
}

/// No code for this challenge: why, and the way back.
struct SignRefusedView: View {
    let message: AppMessage
    let act: Act

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text(message.text).font(.headline).foregroundStyle(.red)
            Button(L("action_sign_done")) { act(.finishSign) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_sign_refused"))
        .toolbar { BackButton(act: act) }
    }
}
