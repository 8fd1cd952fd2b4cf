// The token list (home) and one token: the code large and grouped, the countdown, the serial
// with its copy button, time sync and delete.
import SwiftUI
import UIKit
import UniformTypeIdentifiers
import SoftTokenKit

/// The code in large monospaced type with its countdown; VoiceOver reads it digit by digit.
struct CodeBlock: View {
    let code: CodeView

    var body: some View {
        VStack(spacing: 8) {
            Text(code.now.grouped())
                .font(.system(size: 44, weight: .bold, design: .monospaced))
                .foregroundStyle(code.expiringSoon ? Color.red : Color.primary)
                .accessibilityLabel("\(L("label_code")) \(code.now.spoken())")
            HStack(spacing: 12) {
                ProgressView(value: Double(code.remaining)).frame(width: 160)
                Text(code.countdown).font(.system(.title3, design: .monospaced))
            }
            .accessibilityElement(children: .ignore)
            .accessibilityLabel(L("label_seconds_left", Int(code.secondsLeft)))
        }
        .frame(maxWidth: .infinity)
    }
}

/// The serial grouped (`SKTS 1234 5678`) with a copy button; `spoken` symbol by symbol.
struct SerialRow: View {
    let grouped: String
    let spoken: String
    let onCopied: () -> Void

    var body: some View {
        HStack {
            VStack(alignment: .leading) {
                Text(L("label_serial")).font(.caption)
                Text(grouped).font(.system(size: 24, weight: .semibold, design: .monospaced))
            }
            .accessibilityElement(children: .ignore)
            .accessibilityLabel("\(L("label_serial")) \(spoken)")
            Spacer()
            Button(L("action_copy")) {
                // Local only, and expiring: a serial is not secret, but it need not linger.
                UIPasteboard.general.setItems([[UTType.plainText.identifier: grouped.replacingOccurrences(of: " ", with: "")]],
                                              options: [.localOnly: true, .expirationDate: Date().addingTimeInterval(120)])
                onCopied()
            }
        }
    }
}

/// A token's state in words: 「利用中」, 登録手続き中, トークン失効, 利用中止, 機種変更済み (docs/glossary.toml).
struct StatusLine: View {
    let card: TokenCard
    var body: some View {
        Text(card.status.text).foregroundStyle(card.token.state == .pending ? Color.teal : Color.secondary)
    }
}

/// Home: every token with its code; empty, the welcome.
struct TokenListView: View {
    let cards: [TokenCard]
    let act: Act
    @State private var scanning = false

    var body: some View {
        List {
            if cards.isEmpty { Text(L("welcome")).padding(.vertical) }
            ForEach(cards, id: \.token.serial) { card in
                Button { act(.openToken(serial: card.token.serial)) } label: {
                    VStack(alignment: .leading, spacing: 4) {
                        Text(card.token.issuer).font(.headline)
                        if !card.token.label.isEmpty { Text(card.token.label).font(.caption) }
                        StatusLine(card: card)
                        if let code = card.code { CodeBlock(code: code) }
                        if let why = card.whyDead { Text(why.text).font(.caption) }
                    }
                }
                .buttonStyle(.plain)
            }
            if !cards.isEmpty {
                // 取引確認: the QR code internet banking shows for a transfer.
                Button(L("action_sign_scan")) { QRScannerView.open(act: act) { scanning = true } }
            }
            Button(L("action_add")) { act(.addToken) }
        }
        .sheet(isPresented: $scanning, onDismiss: { act(.scanCancelled) }) {
            QRScannerView(onScanned: { text in
                scanning = false
                act(.scanned(uri: text))
            }, onFailed: {
                scanning = false
                act(.scanFailed(cameraDenied: false))
            })
        }
        // Pull to refresh: the servers say what became of each token (on the model's queue).
        .refreshable { act(.refreshStates) }
        .navigationTitle(L("title_tokens"))
        .toolbar {
            ToolbarItem(placement: .navigationBarLeading) {
                Button(L("action_refresh")) { act(.refreshStates) }
            }
            ToolbarItem(placement: .navigationBarTrailing) {
                Button(L("action_settings")) { act(.openSettings) }
            }
        }
    }
}

/// One token.
struct TokenDetailView: View {
    let card: TokenCard
    let firstUse: FirstUse?
    let act: Act

    var body: some View {
        ScrollView {
            VStack(alignment: .leading, spacing: 16) {
                switch firstUse {
                case .activation: Text(L("activation_first_code"))
                case .registration: Text(L("registration_first_code"))
                case nil: EmptyView()
                }
                StatusLine(card: card)
                // A dead token: no code, why, what to do, and delete first.
                if let why = card.whyDead {
                    Text(why.text)
                    Button(L("action_delete"), role: .destructive) { act(.requestDelete(serial: card.token.serial)) }
                        .buttonStyle(.borderedProminent)
                }
                if let code = card.code {
                    CodeBlock(code: code)
                    if code.expiringSoon {
                        Text("\(L("label_next_code")): \(code.next.grouped())")
                            .accessibilityLabel("\(L("label_next_code")) \(code.next.spoken())")
                    }
                }
                if card.whyDead == nil {
                    // 取引確認 without a camera: the digits typed from the bank's screen.
                    Button(L("action_sign_manual")) { act(.startTypedSign(serial: card.token.serial)) }
                }
                SerialRow(grouped: card.token.serialGrouped, spoken: card.token.serialSpoken) { act(.serialCopied) }
                if card.whyDead == nil {
                    Button(L("action_sync_time")) { act(.syncTime(serial: card.token.serial)) }
                    Button(L("action_delete"), role: .destructive) { act(.requestDelete(serial: card.token.serial)) }
                }
            }
            .padding()
        }
        .navigationTitle(card.token.issuer)
        .navigationBarBackButtonHidden(true)
        .toolbar { BackButton(act: act) }
    }
}

/// Delete this token? Only after the bank revoked it.
struct ConfirmDeleteView: View {
    let token: TokenSummary
    let act: Act

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text("\(token.issuer)  \(token.serialGrouped)").font(.headline)
            Text(L("delete_warning"))
            Button(L("action_delete"), role: .destructive) { act(.confirmDelete) }
            Button(L("action_cancel")) { act(.back) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_delete"))
        .toolbar { BackButton(act: act) }
    }
}
